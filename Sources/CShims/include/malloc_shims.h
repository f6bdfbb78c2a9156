#pragma once

/// Makes glibc malloc serve every allocation of `threshold` bytes or more with mmap and
/// return it to the kernel on free, and caps the malloc arenas at `arenas`. glibc otherwise
/// raises its mmap threshold after the first large free (up to 32 MiB on 64-bit), so later
/// large buffers stay in the heap and keep the resident size up.
void hk_malloc_tune(int threshold, int arenas);
