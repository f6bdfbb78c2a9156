#pragma once
// File system calls the Glibc module does not export to Swift: fstatfs (for the file system
// type behind a directory descriptor), the xattr calls (for the SELinux label) and
// copy_file_range (declared only under _GNU_SOURCE).
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

// PROC_SUPER_MAGIC from <linux/magic.h>: the f_type of procfs.
#define HK_PROC_SUPER_MAGIC 0x9fa0

// Stores the f_type of the file system holding `fd` in `type`; returns 0, or -1 with errno set.
int hk_fs_type(int fd, int64_t *type);

// fgetxattr(2) and fsetxattr(2), unchanged.
ssize_t hk_fgetxattr(int fd, const char *name, void *value, size_t size);
int hk_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags);

// copy_file_range(2) from `in_fd` at `*in_offset` (advanced by the bytes copied) to `out_fd`
// at its file position; returns the count, or -1 with errno set.
ssize_t hk_copy_file_range(int in_fd, int64_t *in_offset, int out_fd, size_t length);
