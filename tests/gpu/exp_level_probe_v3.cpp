// packs_exp at x86-64-v3 (tests/gpu/CMakeLists.txt gives this file its -march).
#define ICLCERT_BATCH_ISA_NS exp_probe_v3
#define EXP_PROBE packed_exp_v3
#include "exp_level_probe.inc"
