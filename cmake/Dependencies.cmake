# Locates every dependency. Debian ships CMake configs for some and not for others
# (see shared/TOOLCHAIN.md): GMP, MPFR, MPFI and Arb are found by hand.

find_package(Boost 1.74 REQUIRED)
find_package(nlohmann_json 3 REQUIRED CONFIG)
find_package(CLI11 REQUIRED CONFIG)
find_package(fmt REQUIRED CONFIG)
find_package(PkgConfig REQUIRED)

function(iclcert_find_c_library name header lib)
  find_path(${name}_INCLUDE_DIR ${header})
  find_library(${name}_LIBRARY ${lib})
  if(NOT ${name}_INCLUDE_DIR OR NOT ${name}_LIBRARY)
    message(FATAL_ERROR "${name} not found (header ${header}, library ${lib}): run scripts/install-deps.sh")
  endif()
  add_library(iclcert_dep::${name} UNKNOWN IMPORTED)
  set_target_properties(iclcert_dep::${name} PROPERTIES
    IMPORTED_LOCATION "${${name}_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${${name}_INCLUDE_DIR}")
endfunction()

iclcert_find_c_library(gmp gmp.h gmp)
iclcert_find_c_library(mpfr mpfr.h mpfr)
iclcert_find_c_library(mpfi mpfi.h mpfi)
iclcert_find_c_library(flint flint/flint.h flint)
iclcert_find_c_library(arb arb.h flint-arb)  # Arb 2.x; with FLINT >= 3 it is flint/arb.h in libflint

if(ICLCERT_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
find_package(rapidcheck CONFIG)  # properties/ (iclcert fuzz) and the property suites
if(ICLCERT_BUILD_BENCH)
  find_package(benchmark CONFIG)
endif()

# Optional components: AUTO builds them when their toolchain is present.
set(ICLCERT_HAVE_Z3 no)
if(NOT ICLCERT_WITH_Z3 STREQUAL "OFF")
  pkg_check_modules(Z3 IMPORTED_TARGET z3)
  if(Z3_FOUND)
    set(ICLCERT_HAVE_Z3 yes)
  elseif(ICLCERT_WITH_Z3 STREQUAL "ON")
    message(FATAL_ERROR "ICLCERT_WITH_Z3=ON but Z3 was not found (libz3-dev)")
  endif()
endif()

set(ICLCERT_HAVE_CUDA no)
if(NOT ICLCERT_WITH_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(ICLCERT_HAVE_CUDA "yes (compiles; runs only where a GPU is present)")
  elseif(ICLCERT_WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "ICLCERT_WITH_CUDA=ON but no CUDA compiler was found")
  endif()
endif()
