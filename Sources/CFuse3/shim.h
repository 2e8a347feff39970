#ifndef PFS_CFUSE3_SHIM_H
#define PFS_CFUSE3_SHIM_H

#include <fcntl.h>
#include <sys/statvfs.h>

// The one place FUSE_USE_VERSION is set: libfuse 3.12+ low-level API (Debian 12 ships 3.14).
#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <errno.h>

// Wrappers for macros and bitfields Swift cannot use directly.

static inline struct fuse_session *pfs_session_new(struct fuse_args *args,
                                                   const struct fuse_lowlevel_ops *ops,
                                                   void *userdata) {
    return fuse_session_new(args, ops, sizeof(*ops), userdata);
}

static inline int pfs_session_loop_mt(struct fuse_session *se, unsigned int max_threads) {
    struct fuse_loop_config *cfg = fuse_loop_cfg_create();
    if (!cfg) return -ENOMEM;
    fuse_loop_cfg_set_max_threads(cfg, max_threads);
    fuse_loop_cfg_set_idle_threads(cfg, max_threads);
    fuse_loop_cfg_set_clone_fd(cfg, 1);
    int rc = fuse_session_loop_mt(se, cfg);
    fuse_loop_cfg_destroy(cfg);
    return rc;
}

static inline void pfs_fi_set_keep_cache(struct fuse_file_info *fi, int v) { fi->keep_cache = v ? 1 : 0; }
static inline void pfs_fi_set_direct_io(struct fuse_file_info *fi, int v) { fi->direct_io = v ? 1 : 0; }
static inline void pfs_fi_set_cache_readdir(struct fuse_file_info *fi, int v) { fi->cache_readdir = v ? 1 : 0; }
static inline void pfs_fi_set_noflush(struct fuse_file_info *fi, int v) { fi->noflush = v ? 1 : 0; }

// O_TMPFILE needs _GNU_SOURCE, which would change the system types this module shares with Glibc.
static inline int pfs_o_tmpfile(void) { return 020000000 | O_DIRECTORY; }
static inline unsigned int pfs_rename_noreplace(void) { return 1; /* RENAME_NOREPLACE */ }
static inline unsigned int pfs_rename_exchange(void) { return 2; /* RENAME_EXCHANGE */ }
static inline int pfs_statvfs(const char *path, struct statvfs *out) { return statvfs(path, out); }

static inline int pfs_s_isdir(mode_t m) { return S_ISDIR(m); }

#endif
