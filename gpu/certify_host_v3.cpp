// certify_prompt for x86-64-v3 (AVX2 and FMA); see gpu/certify_host.hpp.
#define ICLCERT_IV_ISA_NS isa_v3
#define ICLCERT_CERTIFY_HOST_NAME certify_host_v3
#include "gpu/certify_host_level.inc"
