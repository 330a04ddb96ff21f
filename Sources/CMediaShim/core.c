#include "mshim_core.h"

#include <string.h>
#include <vips/vips.h>

static void copy_vips_error(char *err, size_t errlen) {
    if (err == NULL || errlen == 0) return;
    // vips_error_buffer_copy() copies and clears the process-wide buffer.
    char *text = vips_error_buffer_copy();
    strncpy(err, text ? text : "unknown libvips error", errlen - 1);
    err[errlen - 1] = '\0';
    g_free(text);
}

// libvips' warnings ("ignoring nclx profile") would land on the CLI's standard error among its
// results; failures reach callers through the error buffer, so warnings are dropped.
static void drop_log_message(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data) {
    (void)domain; (void)level; (void)message; (void)data;
}

int mshim_vips_init(const char *argv0, int concurrency, int max_cache_ops, char *err, size_t errlen) {
    if (VIPS_INIT(argv0 ? argv0 : "media-library") != 0) {
        copy_vips_error(err, errlen);
        return -1;
    }
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE, drop_log_message, NULL);
    vips_concurrency_set(concurrency);
    vips_cache_set_max(max_cache_ops);
    return 0;
}

const char *mshim_vips_version(void) {
    return vips_version_string();
}
