#include "mshim_optimize.h"

#include <stdio.h>
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

int mshim_png_recompress(const char *in_path, const char *out_path, char *err, size_t errlen) {
    VipsImage *image = vips_image_new_from_file(in_path, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                                VIPS_FAIL_ON_TRUNCATED, NULL);
    if (image == NULL) return fail(err, errlen);
    int interlaced = 0;
    if (vips_image_get_typeof(image, "interlaced") != 0 && vips_image_get_int(image, "interlaced", &interlaced) != 0) {
        interlaced = 0;
    }
    // 16-bit samples stay 16-bit; everything else libvips loads as 8-bit.
    int bitdepth = vips_image_get_format(image) == VIPS_FORMAT_USHORT ? 16 : 8;
    int status = vips_pngsave(image, out_path, "compression", 9, "filter", VIPS_FOREIGN_PNG_FILTER_ALL, "interlace",
                              interlaced != 0, "palette", FALSE, "bitdepth", bitdepth, "strip", FALSE, NULL);
    g_object_unref(image);
    return status == 0 ? 0 : fail(err, errlen);
}

int mshim_images_identical(const char *a_path, const char *b_path, int *identical, char *difference,
                           size_t differencelen, char *err, size_t errlen) {
    VipsImage *a = NULL, *b = NULL, *unequal = NULL;
    int status = -1;
    *identical = 0;
    if (differencelen > 0) difference[0] = '\0';
    a = vips_image_new_from_file(a_path, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL);
    if (a == NULL) goto done;
    b = vips_image_new_from_file(b_path, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL);
    if (b == NULL) goto done;
    if (vips_image_get_width(a) != vips_image_get_width(b) || vips_image_get_height(a) != vips_image_get_height(b)) {
        snprintf(difference, differencelen, "size %dx%d became %dx%d", vips_image_get_width(a),
                 vips_image_get_height(a), vips_image_get_width(b), vips_image_get_height(b));
        status = 0;
        goto done;
    }
    if (vips_image_get_bands(a) != vips_image_get_bands(b)) {
        snprintf(difference, differencelen, "%d bands became %d", vips_image_get_bands(a), vips_image_get_bands(b));
        status = 0;
        goto done;
    }
    if (vips_image_get_format(a) != vips_image_get_format(b)) {
        snprintf(difference, differencelen, "sample format %s became %s",
                 vips_enum_nick(VIPS_TYPE_BAND_FORMAT, vips_image_get_format(a)),
                 vips_enum_nick(VIPS_TYPE_BAND_FORMAT, vips_image_get_format(b)));
        status = 0;
        goto done;
    }
    // 255 in every band where the samples differ, 0 where equal; streamed, never all in memory.
    if (vips_notequal(a, b, &unequal, NULL) != 0) goto done;
    double largest = 0;
    if (vips_max(unequal, &largest, NULL) != 0) goto done;
    if (largest == 0) {
        *identical = 1;
    } else {
        snprintf(difference, differencelen, "some pixels differ");
    }
    status = 0;
done:
    if (unequal) g_object_unref(unequal);
    if (b) g_object_unref(b);
    if (a) g_object_unref(a);
    return status == 0 ? 0 : fail(err, errlen);
}
