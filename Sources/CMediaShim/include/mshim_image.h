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

/// The metadata blocks an image carries, copied out of libvips (whose copies go with the image):
/// the IPTC block (`iptc-data`: for a JPEG, its APP13 "Photoshop 3.0" resource block), the XMP
/// packet (`xmp-data`) and the EXIF block (`exif-data`). NULL with length 0 when absent; a block
/// longer than `MSHIM_METADATA_BLOCK_LIMIT` is cut there (its parser is bounds-checked and
/// reads what is whole). Freed with `mshim_free_image_metadata`.
typedef struct {
    unsigned char *iptc;
    size_t iptc_length;
    unsigned char *xmp;
    size_t xmp_length;
    unsigned char *exif;
    size_t exif_length;
} MShimImageMetadata;

#define MSHIM_METADATA_BLOCK_LIMIT (1024 * 1024)

/// Reads the header of the image at `path`, and, when `metadata` is not NULL, copies its
/// metadata blocks into it. Returns 0, or -1 with libvips' reason in `err` (nothing to free).
int mshim_probe_image(const char *path, MShimImageInfo *info, MShimImageMetadata *metadata, char *err, size_t errlen);

/// Frees the blocks `mshim_probe_image` copied, and empties `metadata`.
void mshim_free_image_metadata(MShimImageMetadata *metadata);

/// Writes a JPEG thumbnail of the first page of `in_path` to `out_path`: displayed orientation,
/// sRGB 8-bit, transparency flattened onto white, exactly `target_width` wide with the height
/// that keeps the aspect, unless that exceeds `max_height`: then it fits a
/// target_width × max_height box, centred on black. Never cropped, never stretched.
int mshim_thumbnail_jpeg(const char *in_path, const char *out_path, int target_width, int max_height,
                         int quality, int *out_width, int *out_height, char *err, size_t errlen);

/// Reads the RGB value at (x, y) of an image file: for tests that check a thumbnail's pixels.
int mshim_read_pixel(const char *path, int x, int y, int rgb[3], char *err, size_t errlen);

#endif
