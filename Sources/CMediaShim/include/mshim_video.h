#ifndef MSHIM_VIDEO_H
#define MSHIM_VIDEO_H

#include <stddef.h>
#include <stdint.h>

// Poster frames: FFmpeg decodes in Swift, libvips rotates, scales, pads and encodes here.
// Like CMediaShim.h this header carries no vips or glib types. Functions return 0 on success;
// on failure -1 with libvips' error text copied into `err`. libvips must already be started
// (NativeLibraries.startVips()).

/// Writes a baseline JPEG poster from a packed RGB24 frame (`width * 3` bytes per row, no padding)
/// whose pixels already have square samples.
///
/// The frame is rotated `rotate_cw` degrees clockwise (0, 90, 180 or 270), then scaled, keeping its
/// aspect ratio, to exactly `target_width` wide. When that would make it taller than `max_height`,
/// it is instead scaled to fit a `target_width` x `max_height` box and centred on black bars left and
/// right, so the poster is still `target_width` wide. It is never cropped or stretched.
/// Metadata is stripped. The poster's size is returned in `out_width` and `out_height`.
int mshim_rgb_poster_jpeg(const uint8_t *rgb, int width, int height, int rotate_cw,
                          int target_width, int max_height, const char *jpeg_path, int quality,
                          int *out_width, int *out_height, char *err, size_t errlen);

#endif
