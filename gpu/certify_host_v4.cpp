// certify_prompt for x86-64-v4 (AVX-512); see gpu/certify_host.hpp.
#define ICLCERT_IV_ISA_NS isa_v4
#define ICLCERT_CERTIFY_HOST_NAME certify_host_v4
#include "gpu/certify_host_level.inc"
