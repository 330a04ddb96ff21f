#include "mshim_video.h"

#include <math.h>
#include <string.h>
#include <vips/vips.h>

static void copy_poster_error(char *err, size_t errlen, const char *fallback) {
    if (err == NULL || errlen == 0) return;
    // vips_error_buffer_copy() copies and clears the process-wide buffer, so a later call on
    // another thread does not report this failure again.
    char *text = vips_error_buffer_copy();
    const char *message = (text != NULL && text[0] != '\0') ? text : fallback;
    strncpy(err, message, errlen - 1);
    err[errlen - 1] = '\0';
    g_free(text);
}

static int angle_for_clockwise_degrees(int degrees, VipsAngle *angle) {
    switch (degrees) {
    case 0: *angle = VIPS_ANGLE_D0; return 0;
    case 90: *angle = VIPS_ANGLE_D90; return 0;
    case 180: *angle = VIPS_ANGLE_D180; return 0;
    case 270: *angle = VIPS_ANGLE_D270; return 0;
    default: return -1;
    }
}

static int rounded_at_least_one(double value) {
    long rounded = lround(value);
    return rounded < 1 ? 1 : (int)rounded;
}

int mshim_rgb_poster_jpeg(const uint8_t *rgb, int width, int height, int rotate_cw,
                          int target_width, int max_height, const char *jpeg_path, int quality,
                          int *out_width, int *out_height, char *err, size_t errlen) {
    VipsAngle angle;
    if (rgb == NULL || jpeg_path == NULL || width < 1 || height < 1 || target_width < 1 ||
        max_height < 1 || quality < 1 || quality > 100 ||
        angle_for_clockwise_degrees(rotate_cw, &angle) != 0) {
        vips_error("mshim_rgb_poster_jpeg", "invalid poster arguments");
        copy_poster_error(err, errlen, "invalid poster arguments");
        return -1;
    }

    // Every intermediate image is owned by `scope` and unreferenced together at the end.
    VipsObject *scope = VIPS_OBJECT(vips_image_new());
    VipsImage **steps = (VipsImage **)vips_object_local_array(scope, 5);
    int status = -1;

    steps[0] = vips_image_new_from_memory_copy(rgb, (size_t)width * (size_t)height * 3, width,
                                               height, 3, VIPS_FORMAT_UCHAR);
    if (steps[0] == NULL) goto done;
    // Memory images carry no colour space; say sRGB so the JPEG saver does not convert.
    if (vips_copy(steps[0], &steps[1], "interpretation", VIPS_INTERPRETATION_sRGB, NULL) != 0) goto done;
    if (vips_rot(steps[1], &steps[2], angle, NULL) != 0) goto done;

    const int displayed_width = vips_image_get_width(steps[2]);
    const int displayed_height = vips_image_get_height(steps[2]);
    int picture_width = target_width;
    int picture_height = rounded_at_least_one((double)displayed_height * target_width / displayed_width);
    int poster_height = picture_height;
    if (picture_height > max_height) {
        picture_height = max_height;
        picture_width = rounded_at_least_one((double)displayed_width * max_height / displayed_height);
        poster_height = max_height;
    }

    if (vips_resize(steps[2], &steps[3], (double)picture_width / displayed_width, "vscale",
                    (double)picture_height / displayed_height, NULL) != 0)
        goto done;
    // Centring on the exact poster size adds the black bars, and also absorbs the one-pixel
    // rounding differences vips_resize may leave.
    if (vips_gravity(steps[3], &steps[4], VIPS_COMPASS_DIRECTION_CENTRE, target_width,
                     poster_height, "extend", VIPS_EXTEND_BLACK, NULL) != 0)
        goto done;
    if (vips_jpegsave(steps[4], jpeg_path, "Q", quality, "strip", TRUE, "interlace", FALSE,
                      "optimize_coding", TRUE, NULL) != 0)
        goto done;

    if (out_width != NULL) *out_width = vips_image_get_width(steps[4]);
    if (out_height != NULL) *out_height = vips_image_get_height(steps[4]);
    status = 0;

done:
    if (status != 0) copy_poster_error(err, errlen, "libvips failed without an error message");
    g_object_unref(scope);
    return status;
}
