#ifndef MSHIM_CORE_H
#define MSHIM_CORE_H

#include <stddef.h>

// The public face of the libvips shim carries no vips or glib types, so Swift never parses
// vips.h through this module. Every function returns 0 on success; on failure it returns -1
// and copies libvips' error text into `err` (libvips keeps one error buffer per process).

/// Starts libvips once per process. `concurrency` is libvips' worker-thread count per
/// operation; `max_cache_ops` 0 turns the operation cache off (a daemon must not pin images).
int mshim_vips_init(const char *argv0, int concurrency, int max_cache_ops, char *err, size_t errlen);

/// libvips' version as "major.minor.micro".
const char *mshim_vips_version(void);

#endif
