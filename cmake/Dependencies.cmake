# Locates every dependency. Debian ships CMake configs for some and not for others
# (docs/toolchain.md): GMP, MPFR, MPFI and Arb are found by hand.

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

# CUDA: AUTO compiles the kernels only where a GPU is present (`nvidia-smi -L` lists
# one) and nvcc is found, since nvcc is a large part of a first build's time and the
# kernels cannot run without a GPU; ON compiles them wherever nvcc is found.
set(ICLCERT_HAVE_CUDA no)  # yes or no; ICLCERT_CUDA_SUMMARY says why, for the summary
set(ICLCERT_CUDA_SUMMARY "no (ICLCERT_WITH_CUDA=OFF)")
if(NOT ICLCERT_WITH_CUDA STREQUAL "OFF")
  set(iclcert_gpu_present no)
  if(ICLCERT_WITH_CUDA STREQUAL "AUTO")
    find_program(ICLCERT_NVIDIA_SMI nvidia-smi)
    if(ICLCERT_NVIDIA_SMI)
      execute_process(COMMAND ${ICLCERT_NVIDIA_SMI} -L RESULT_VARIABLE iclcert_smi_status
                      OUTPUT_VARIABLE iclcert_smi_out ERROR_QUIET TIMEOUT 20)
      if(iclcert_smi_status EQUAL 0 AND iclcert_smi_out MATCHES "GPU")
        set(iclcert_gpu_present yes)
      endif()
    endif()
  endif()
  if(ICLCERT_WITH_CUDA STREQUAL "ON" OR iclcert_gpu_present)
    include(CheckLanguage)
    check_language(CUDA)
  endif()
  if(CMAKE_CUDA_COMPILER AND (ICLCERT_WITH_CUDA STREQUAL "ON" OR iclcert_gpu_present))
    set(ICLCERT_HAVE_CUDA yes)
    if(iclcert_gpu_present)
      set(ICLCERT_CUDA_SUMMARY "yes (a GPU is present)")
    else()
      set(ICLCERT_CUDA_SUMMARY "yes (ICLCERT_WITH_CUDA=ON; runs only where a GPU is present)")
    endif()
  elseif(ICLCERT_WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "ICLCERT_WITH_CUDA=ON but no CUDA compiler was found")
  elseif(iclcert_gpu_present)
    set(ICLCERT_CUDA_SUMMARY "no (a GPU is present, but no CUDA compiler was found)")
  else()
    set(ICLCERT_CUDA_SUMMARY "no (no GPU: `nvidia-smi -L` lists none; -DICLCERT_WITH_CUDA=ON compiles the kernels anyway)")
  endif()
endif()

# Python bindings (python/): pybind11 over the C++ library. The Python found is
# Debian's /usr/bin/python3 when it exists, since a pyenv python3 first on PATH
# may lack NumPy; override with -DPython3_EXECUTABLE=... Under `pip install .`
# (SKBUILD set by scikit-build-core) it is the interpreter pip runs, which
# scikit-build-core passes as Python3_EXECUTABLE.
set(ICLCERT_HAVE_PYTHON no)
if(NOT ICLCERT_WITH_PYTHON STREQUAL "OFF")
  if(NOT SKBUILD AND NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "Python for the iclcert package")
  endif()
  find_package(Python3 COMPONENTS Interpreter Development.Module OPTIONAL_COMPONENTS NumPy)
  if(Python3_FOUND)
    find_package(pybind11 CONFIG)
  endif()
  if(Python3_FOUND AND pybind11_FOUND)
    set(ICLCERT_HAVE_PYTHON "yes (${Python3_EXECUTABLE}, pybind11 ${pybind11_VERSION})")
    # The static libraries are linked into a shared extension module.
    set(CMAKE_POSITION_INDEPENDENT_CODE ON)
  elseif(ICLCERT_WITH_PYTHON STREQUAL "ON")
    message(FATAL_ERROR "ICLCERT_WITH_PYTHON=ON but Python 3 development files or pybind11 were not found (python3-dev, pybind11-dev)")
  endif()
endif()

# MPI (Open MPI from Debian: libopenmpi-dev, openmpi-bin): `mpiexec -n R iclcert
# sweep|batch|compare|check ...` splits the work across R processes (api/distribute.hpp).
set(ICLCERT_HAVE_MPI no)
if(NOT ICLCERT_WITH_MPI STREQUAL "OFF")
  find_package(MPI COMPONENTS CXX)
  if(MPI_CXX_FOUND)
    set(ICLCERT_HAVE_MPI yes)
  elseif(ICLCERT_WITH_MPI STREQUAL "ON")
    message(FATAL_ERROR "ICLCERT_WITH_MPI=ON but MPI was not found (libopenmpi-dev)")
  endif()
endif()
