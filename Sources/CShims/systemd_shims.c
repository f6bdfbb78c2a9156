#include "systemd_shims.h"
