#ifndef MSHIM_IMAGE_H
#define MSHIM_IMAGE_H

#include <stddef.h>

/// What an image file's header says, read without decoding its pixels.
typedef struct {
    int width;          // stored width of one page, before EXIF orientation
    int height;         // stored height of one page
    int bands;
    int pages;          // frames of an animation or pages of a multi-page file; 1 otherwise
    int orientation;    // EXIF orientation 1-8, 1 when absent
    char loader[64];    // libvips' loader, e.g. "jpegload"
    char interpretation[32];
} MShimImageInfo;

/// Reads the header of the image at `path`. Returns 0, or -1 with libvips' reason in `err`.
int mshim_probe_image(const char *path, MShimImageInfo *info, char *err, size_t errlen);

/// Writes a JPEG thumbnail of the first page of `in_path` to `out_path`: displayed orientation,
/// sRGB 8-bit, transparency flattened onto white, exactly `target_width` wide with the height
/// that keeps the aspect, unless that exceeds `max_height`: then it fits a
/// target_width × max_height box, centred on black. Never cropped, never stretched.
int mshim_thumbnail_jpeg(const char *in_path, const char *out_path, int target_width, int max_height,
                         int quality, int *out_width, int *out_height, char *err, size_t errlen);

/// Reads the RGB value at (x, y) of an image file: for tests that check a thumbnail's pixels.
int mshim_read_pixel(const char *path, int x, int y, int rgb[3], char *err, size_t errlen);

#endif
