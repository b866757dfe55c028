# Sanitizer and fuzzer builds (`scripts/dev.sh sanitize`, README "Two commands").
#   -DICLCERT_SANITIZE=address,undefined   every target built with these sanitizers; a UBSan
#                                          finding aborts (no recovery), so the test fails
#   -DICLCERT_BUILD_FUZZERS=ON             the readers' fuzz targets of fuzz/: libFuzzer binaries
#                                          under clang, replay-only drivers under other compilers
# Combine them with -DCMAKE_BUILD_TYPE=RelWithDebInfo and -O1 (what dev.sh does): fast enough
# to run the tests, with line numbers in the reports.
set(ICLCERT_SANITIZE "" CACHE STRING "Sanitizers for every target, as for -fsanitize= (e.g. address,undefined); empty: none")
option(ICLCERT_BUILD_FUZZERS "Build the fuzz targets of fuzz/ (libFuzzer with clang)" OFF)

if(ICLCERT_SANITIZE)
  add_compile_options(-fsanitize=${ICLCERT_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${ICLCERT_SANITIZE})
  if(ICLCERT_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
    add_link_options(-fno-sanitize-recover=undefined)
  endif()
endif()

set(ICLCERT_HAVE_LIBFUZZER no)
if(ICLCERT_BUILD_FUZZERS)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    include(CheckCXXSourceCompiles)
    set(CMAKE_REQUIRED_FLAGS "-fsanitize=fuzzer")
    set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=fuzzer")
    check_cxx_source_compiles([[
      #include <cstddef>
      #include <cstdint>
      extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }
    ]] ICLCERT_LIBFUZZER_LINKS)
    unset(CMAKE_REQUIRED_FLAGS)
    unset(CMAKE_REQUIRED_LINK_OPTIONS)
    if(ICLCERT_LIBFUZZER_LINKS)
      set(ICLCERT_HAVE_LIBFUZZER yes)
    else()
      message(FATAL_ERROR "ICLCERT_BUILD_FUZZERS=ON: clang cannot link -fsanitize=fuzzer (install libfuzzer-14-dev)")
    endif()
  endif()
endif()
