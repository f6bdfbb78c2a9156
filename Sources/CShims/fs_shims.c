#define _GNU_SOURCE
#include "fs_shims.h"

#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

int hk_fs_type(int fd, int64_t *type) {
    struct statfs info;
    if (fstatfs(fd, &info) != 0) {
        return -1;
    }
    *type = (int64_t)info.f_type;
    return 0;
}

ssize_t hk_fgetxattr(int fd, const char *name, void *value, size_t size) {
    return fgetxattr(fd, name, value, size);
}

int hk_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags) {
    return fsetxattr(fd, name, value, size, flags);
}

ssize_t hk_copy_file_range(int in_fd, int64_t *in_offset, int out_fd, size_t length) {
    off64_t offset = (off64_t)*in_offset;
    ssize_t copied = copy_file_range(in_fd, &offset, out_fd, NULL, length, 0);
    *in_offset = (int64_t)offset;
    return copied;
}
