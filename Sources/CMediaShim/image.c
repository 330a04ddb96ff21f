#include "mshim_image.h"

#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

static int fail(char *err, size_t errlen) {
    if (err != NULL && errlen > 0) {
        char *text = vips_error_buffer_copy();  // copies and clears the process-wide buffer
        strncpy(err, text && text[0] ? text : "unknown libvips error", errlen - 1);
        err[errlen - 1] = '\0';
        g_free(text);
    }
    return -1;
}

// A copy of the blob field `name`, at most MSHIM_METADATA_BLOCK_LIMIT bytes; NULL when the image
// has no such field (or memory ran out: the keywords are then missing, not the image).
static unsigned char *copy_blob(VipsImage *image, const char *name, size_t *length) {
    *length = 0;
    if (vips_image_get_typeof(image, name) != VIPS_TYPE_BLOB) return NULL;
    const void *data = NULL;
    size_t size = 0;
    if (vips_image_get_blob(image, name, &data, &size) != 0 || data == NULL || size == 0) {
        vips_error_clear();
        return NULL;
    }
    if (size > MSHIM_METADATA_BLOCK_LIMIT) size = MSHIM_METADATA_BLOCK_LIMIT;
    unsigned char *copy = malloc(size);
    if (copy == NULL) return NULL;
    memcpy(copy, data, size);
    *length = size;
    return copy;
}

void mshim_free_image_metadata(MShimImageMetadata *metadata) {
    if (metadata == NULL) return;
    free(metadata->iptc);
    free(metadata->xmp);
    free(metadata->exif);
    memset(metadata, 0, sizeof(*metadata));
}

int mshim_probe_image(const char *path, MShimImageInfo *info, MShimImageMetadata *metadata, char *err, size_t errlen) {
    // Sequential access: the header is read, the pixels are not.
    VipsImage *image = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (image == NULL) return fail(err, errlen);
    memset(info, 0, sizeof(*info));
    info->width = vips_image_get_width(image);
    info->height = vips_image_get_page_height(image);
    info->bands = vips_image_get_bands(image);
    info->pages = vips_image_get_n_pages(image);
    int orientation = 1;
    if (vips_image_get_typeof(image, VIPS_META_ORIENTATION) != 0 &&
        vips_image_get_int(image, VIPS_META_ORIENTATION, &orientation) != 0) {
        orientation = 1;
    }
    info->orientation = orientation >= 1 && orientation <= 8 ? orientation : 1;
    const char *loader = NULL;
    if (vips_image_get_string(image, VIPS_META_LOADER, &loader) == 0 && loader != NULL) {
        strncpy(info->loader, loader, sizeof(info->loader) - 1);
    }
    const char *interpretation = vips_enum_nick(VIPS_TYPE_INTERPRETATION, vips_image_get_interpretation(image));
    if (interpretation != NULL) strncpy(info->interpretation, interpretation, sizeof(info->interpretation) - 1);
    if (metadata != NULL) {
        memset(metadata, 0, sizeof(*metadata));
        metadata->iptc = copy_blob(image, VIPS_META_IPTC_NAME, &metadata->iptc_length);
        metadata->xmp = copy_blob(image, VIPS_META_XMP_NAME, &metadata->xmp_length);
        metadata->exif = copy_blob(image, VIPS_META_EXIF_NAME, &metadata->exif_length);
    }
    g_object_unref(image);
    return 0;
}

int mshim_thumbnail_jpeg(const char *in_path, const char *out_path, int target_width, int max_height,
                         int quality, int *out_width, int *out_height, char *err, size_t errlen) {
    VipsImage *thumb = NULL, *flat = NULL, *eight = NULL, *boxed = NULL;
    int status = -1;
    // vips_thumbnail: shrink-on-load, EXIF auto-rotation, first page only, ICC/CMYK to sRGB.
    // size BOTH lets a small image grow to the library's one thumbnail width.
    if (vips_thumbnail(in_path, &thumb, target_width, "height", max_height, "size", VIPS_SIZE_BOTH, NULL) != 0) {
        goto done;
    }
    VipsImage *current = thumb;
    if (vips_image_hasalpha(current)) {
        VipsArrayDouble *white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
        int flattened = vips_flatten(current, &flat, "background", white, NULL);
        vips_area_unref(VIPS_AREA(white));
        if (flattened != 0) goto done;
        current = flat;
    }
    if (vips_image_get_format(current) != VIPS_FORMAT_UCHAR) {
        if (vips_cast_uchar(current, &eight, NULL) != 0) goto done;
        current = eight;
    }
    int width = vips_image_get_width(current);
    int height = vips_image_get_height(current);
    if (width < target_width) {
        // Taller than the box allows: keep the whole picture and pad the sides.
        if (vips_gravity(current, &boxed, VIPS_COMPASS_DIRECTION_CENTRE, target_width, height,
                         "extend", VIPS_EXTEND_BLACK, NULL) != 0) {
            goto done;
        }
        current = boxed;
        width = target_width;
    }
    if (vips_jpegsave(current, out_path, "Q", quality, "strip", TRUE, "optimize_coding", TRUE, NULL) != 0) {
        goto done;
    }
    *out_width = width;
    *out_height = height;
    status = 0;
done:
    if (status != 0) fail(err, errlen);
    if (boxed) g_object_unref(boxed);
    if (eight) g_object_unref(eight);
    if (flat) g_object_unref(flat);
    if (thumb) g_object_unref(thumb);
    return status;
}

int mshim_read_pixel(const char *path, int x, int y, int rgb[3], char *err, size_t errlen) {
    VipsImage *image = vips_image_new_from_file(path, NULL);
    if (image == NULL) return fail(err, errlen);
    double *values = NULL;
    int count = 0;
    int status = vips_getpoint(image, &values, &count, x, y, NULL);
    if (status == 0) {
        for (int i = 0; i < 3; i++) rgb[i] = (int)(count > i ? values[i] : values[0]);
        g_free(values);
    }
    g_object_unref(image);
    return status == 0 ? 0 : fail(err, errlen);
}
