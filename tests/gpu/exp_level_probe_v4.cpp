// packs_exp at x86-64-v4 (tests/gpu/CMakeLists.txt gives this file its -march).
#define ICLCERT_BATCH_ISA_NS exp_probe_v4
#define EXP_PROBE packed_exp_v4
#include "exp_level_probe.inc"
