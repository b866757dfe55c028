// Verdict files of `iclcert check --replay`: bytes -> JSON -> parse_verdict_file, which
// checks every field and holds the recorded options to the limits of the flags.
#include "api/verdict_file.hpp"
#include "fuzz/fuzz_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace iclcert;
  return fuzz::run_reader(data, size, [](const std::string& text) {
    cli::parse_verdict_file(parse_json_text(text, fuzz::kFile), fuzz::kFile);
  });
}
