// What every fuzz target of fuzz/ asserts about a reader: on any bytes it either returns or
// rejects the input with an InputError (exit status 2 in the CLI; one line naming the file)
// or a std::invalid_argument. Any other exception aborts, and libFuzzer records the input as
// a crash, as it does a signal, a hang (-timeout) or a sanitizer report.
#pragma once

#include "io/input_error.hpp"
#include "io/json_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <typeinfo>

namespace iclcert::fuzz {

// The name the readers are told the bytes came from; every InputError must name it.
inline const std::string kFile = "fuzz-input.json";

[[noreturn]] inline void finding(const char* what, const std::string& detail) {
  std::fprintf(stderr, "\nfuzz finding: %s: %s\n", what, detail.c_str());
  std::fflush(stderr);
  std::abort();
}

// Runs `read()` and judges how it ended; true when it returned.
template <class Read>
bool judge(Read&& read) {
  try {
    read();
    return true;
  } catch (const InputError& e) {
    const std::string message = e.what();
    if (message.rfind(kFile, 0) != 0) finding("an InputError that does not name the file", message);
    if (message.find('\n') != std::string::npos) finding("an InputError on more than one line", message);
  } catch (const std::invalid_argument&) {
  } catch (const std::exception& e) {
    finding(typeid(e).name(), e.what());
  } catch (...) {
    finding("an exception not derived from std::exception", "");
  }
  return false;
}

// Runs `read(text)` on the input, judged as above.
template <class Read>
int run_reader(const std::uint8_t* data, std::size_t size, Read&& read) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  judge([&] { read(text); });
  return 0;
}

}  // namespace iclcert::fuzz
