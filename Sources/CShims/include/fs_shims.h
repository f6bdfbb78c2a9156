#pragma once
// File system calls the Glibc module does not export to Swift: fstatfs (for the file system
// type behind a directory descriptor) and the xattr calls (for the SELinux label).
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
