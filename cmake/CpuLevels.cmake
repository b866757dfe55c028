# ICLCERT_CPU_LEVELS: the x86-64 levels gpu/ compiles its host kernels for (the float
# kernel batch_cpu_*.cpp and the interval certifier certify_host_*.cpp, one file per level).
#   all     the baseline, x86-64-v3 and x86-64-v4, each file with its -march; the binary
#           calls the best one the CPU supports and runs on any x86-64 (packagers, CI);
#   native  one level, this CPU's best: the baseline files compiled with its -march, the
#           others left out. The same code as `all` runs on this CPU, so the same numbers,
#           for a third of the compile time of those files; the binary needs a CPU with
#           that level. What `scripts/dev.sh run` builds the first time.
# Elsewhere than x86-64 with g++, only the baseline is built, whichever the value.
set(ICLCERT_CPU_LEVELS all CACHE STRING "x86-64 levels of gpu/'s host kernels: all (baseline, v3, v4, picked at run time) or native (this CPU's level only)")
set_property(CACHE ICLCERT_CPU_LEVELS PROPERTY STRINGS all native)
if(NOT ICLCERT_CPU_LEVELS MATCHES "^(all|native)$")
  message(FATAL_ERROR "ICLCERT_CPU_LEVELS is ${ICLCERT_CPU_LEVELS}: expected all or native")
endif()

set(ICLCERT_X86_LEVEL_FILES no)     # gpu/: compile the _v3 and _v4 files
set(ICLCERT_HOST_LEVEL_OPTIONS "")  # gpu/: the baseline files' -march under native
set(ICLCERT_CPU_LEVELS_SUMMARY "baseline only (not x86-64 with g++)")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  if(ICLCERT_CPU_LEVELS STREQUAL "all")
    set(ICLCERT_X86_LEVEL_FILES yes)
    set(ICLCERT_CPU_LEVELS_SUMMARY "all (baseline, x86-64-v3, x86-64-v4; the best one the CPU has runs)")
  else()
    set(iclcert_level_probe ${CMAKE_BINARY_DIR}/CMakeFiles/iclcert_cpu_level.c)
    file(WRITE ${iclcert_level_probe} [=[
int main(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return 4;
  if (__builtin_cpu_supports("x86-64-v3")) return 3;
  return 0;
}
]=])
    try_run(ICLCERT_HOST_X86_LEVEL iclcert_level_compiled ${CMAKE_BINARY_DIR}/CMakeFiles/iclcert_cpu_level
            ${iclcert_level_probe})
    if(iclcert_level_compiled AND ICLCERT_HOST_X86_LEVEL MATCHES "^[34]$")
      set(ICLCERT_HOST_LEVEL_OPTIONS -march=x86-64-v${ICLCERT_HOST_X86_LEVEL})
      set(ICLCERT_CPU_LEVELS_SUMMARY "native (x86-64-v${ICLCERT_HOST_X86_LEVEL} only; -DICLCERT_CPU_LEVELS=all for a binary for any x86-64)")
    else()
      set(ICLCERT_CPU_LEVELS_SUMMARY "native (the x86-64 baseline: this CPU has not x86-64-v3)")
    endif()
  endif()
endif()
