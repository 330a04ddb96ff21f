#ifndef MSHIM_OPTIMIZE_H
#define MSHIM_OPTIMIZE_H

#include <stddef.h>

// Lossless PNG re-compression for the original optimiser. Like the other shim headers this one
// carries no vips or glib types; functions return 0 on success, or -1 with libvips' error text
// in `err`. libvips must already be started (NativeLibraries.startVips()).

/// Re-encodes the PNG at `in_path` to `out_path` at zlib level 9 with every row filter tried:
/// same bands, same bit depth (8 or 16), no palette quantisation, interlaced when the source is,
/// metadata kept (ICC profile, EXIF, XMP, text chunks). A truncated source is an error.
int mshim_png_recompress(const char *in_path, const char *out_path, char *err, size_t errlen);

/// Decodes both images and compares them: size, bands, sample format and every sample.
/// `*identical` is 1 when all are equal, else 0 with what differs in `difference`.
int mshim_images_identical(const char *a_path, const char *b_path, int *identical, char *difference,
                           size_t differencelen, char *err, size_t errlen);

#endif
