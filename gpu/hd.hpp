// ICLCERT_HD marks the functions compiled for both the host and the device: nvcc
// sees __host__ __device__, every other compiler nothing.
#pragma once

#ifdef __CUDACC__
#define ICLCERT_HD __host__ __device__
#else
#define ICLCERT_HD
#endif
