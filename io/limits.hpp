// Limits of accepted input and of the work a flag may ask for (documented in
// docs/formats.md, "Limits"). They keep an absurd file or flag from exhausting
// memory or time before any work starts: such input gets exit status 2 at once.
#pragma once

#include <cstdint>
#include <string>

namespace iclcert {

// Sizes of one prompt and of a model: fixed.
inline constexpr int kMaxFeatures = 1024;           // d
inline constexpr int kMaxClasses = 256;             // C
inline constexpr int kMaxTrainingPoints = 65536;    // N
inline constexpr long kMaxPromptEntries = 10'000'000;  // N * (d + C)
inline constexpr int kMaxLayers = 4096;
inline constexpr int kMaxHeads = 64;
inline constexpr int kMaxBatchPrompts = 1'000'000;
// Nesting of JSON arrays and objects: no iclcert file nests deeper than 6, and a
// deeper one would overflow the stack of the parser and of the error messages.
inline constexpr int kMaxJsonDepth = 64;
// Work of `iclcert check`, from its flags or a replayed verdict file (fixed):
// C1's prompts (--samples) and R1's sub-boxes (--budget; each queued sub-box holds
// its ranges, so the budget bounds memory too).
inline constexpr long kMaxCheckSamples = 10'000'000;
inline constexpr long kMaxCheckBudget = 1 << 20;

// Resource limits a user may raise when they mean it, each through one
// environment variable ICLCERT_MAX_<NAME> holding a positive whole number.
enum class Limit {
  input_bytes,     // ICLCERT_MAX_INPUT_BYTES: size of any input file (256 MiB)
  json_values,     // ICLCERT_MAX_JSON_VALUES: numbers, strings, arrays... in one file (2^25)
  precision_bits,  // ICLCERT_MAX_PRECISION_BITS: BITS of --arith mpfr/interval (65536)
  sample_entries,  // ICLCERT_MAX_SAMPLE_ENTRIES: count * N * (d + C) written by `sample` (10^8)
  chunk_bytes,     // ICLCERT_MAX_CHUNK_BYTES: memory of one chunk of `batch` (2 GiB)
  large_exponents, // ICLCERT_MAX_LARGE_EXPONENTS: decimal exponents of one file beyond +-kFreeDecimalExponent (10^6)
};

// A number string's decimal exponent up to this size costs no more than a double
// read exactly (about 1100 bits); beyond it, each unit of exponent adds 3.3 bits
// to the exact value, so one file's excess is bounded (Limit::large_exponents):
// "1e4000" is 6 characters of text and 13,000 bits of rational.
inline constexpr long kFreeDecimalExponent = 400;

// The limit in force: the environment variable when set, else the default.
// A variable that is not a positive whole number is a usage error (InputError).
std::uint64_t limit(Limit which);

// "ICLCERT_MAX_INPUT_BYTES" and so on, for messages that say how to raise it.
std::string limit_variable(Limit which);

// The message part for a value beyond a limit: "exceeds the limit of N `unit`
// (raise it with ICLCERT_MAX_...=M if you mean it)".
std::string beyond_limit(Limit which, const std::string& unit = "");

}  // namespace iclcert
