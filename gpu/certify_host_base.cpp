// certify_prompt for the baseline (SSE2; any x86-64, and every other architecture); see gpu/certify_host.hpp.
#define ICLCERT_IV_ISA_NS isa_base
#define ICLCERT_CERTIFY_HOST_NAME certify_host_base
#include "gpu/certify_host_level.inc"
