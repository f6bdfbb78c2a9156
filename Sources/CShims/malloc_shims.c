#include <malloc.h>
#include "malloc_shims.h"

void hk_malloc_tune(int threshold, int arenas) {
    mallopt(M_MMAP_THRESHOLD, threshold);
    mallopt(M_ARENA_MAX, arenas);
}
