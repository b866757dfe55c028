// What `batch --certify` and `compare --certify` print and write of a
// certification (gpu/batch_certify.hpp), one implementation for both.
#pragma once

#include "gpu/batch_certify.hpp"
#include "io/json_reader.hpp"

#include <string>

namespace iclcert::cli {

// The summary lines (indented, prefixed by `who`, e.g. "" or "A: ").
void print_certify_summary(const std::string& who, const gpu::CertifyReport& r);
// Counts, per-depth fractions decided at float64, and every prompt's status,
// certified prediction, float prediction, flip and margin enclosure [lo, hi]
// (decimal strings that read back as the same doubles).
Json certify_json(const gpu::CertifyReport& r);

}  // namespace iclcert::cli
