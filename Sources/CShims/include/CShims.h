// Umbrella header: one small header per wrapped library, each owned by the Swift module that
// uses it.
#include "curl_shims.h"
#include "systemd_shims.h"
#include "mhd_shims.h"
#include "fs_shims.h"
#include "malloc_shims.h"
