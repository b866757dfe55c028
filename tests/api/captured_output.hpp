// What descriptors 1 and 2 receive while a library call runs: a call prints nothing.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace iclcert::testing {

template <class F>
std::string captured_output(F&& f) {
  std::fflush(stdout), std::fflush(stderr);
  char name[] = "/tmp/iclcert_api_output_XXXXXX";
  const int file = ::mkstemp(name);
  const int out = ::dup(1), err = ::dup(2);
  ::dup2(file, 1), ::dup2(file, 2);
  auto restore = [&] {
    std::fflush(stdout), std::fflush(stderr);
    ::dup2(out, 1), ::dup2(err, 2);
    ::close(out), ::close(err), ::close(file);
  };
  try {
    f();
  } catch (...) {
    restore();
    ::unlink(name);
    throw;
  }
  restore();
  std::ifstream in(name);
  std::stringstream s;
  s << in.rdbuf();
  ::unlink(name);
  return s.str();
}

}  // namespace iclcert::testing
