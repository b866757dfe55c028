// The exact number parser of every file (docs/formats.md, "Numbers"). A number it accepts
// must also survive its own text form: parse(to_string(x)) == x.
#include "fuzz/fuzz_target.hpp"
#include "numerics/rational.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace iclcert;
  return fuzz::run_reader(data, size, [](const std::string& text) {
    const Rational x = parse_rational(text);
    const std::string back = to_string(x);
    if (parse_rational(back) != x) fuzz::finding("to_string does not round-trip", text + " -> " + back);
    nearest_double(x);
  });
}
