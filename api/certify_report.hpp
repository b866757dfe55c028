// What `batch --certify` and `compare --certify` print and write of a
// certification (gpu/batch_certify.hpp), one implementation for both.
#pragma once

#include "api/account.hpp"
#include "api/csv_table.hpp"
#include "gpu/batch_certify.hpp"
#include "io/json_reader.hpp"

#include <string>

namespace iclcert::api {

// The summary lines (indented, prefixed by `who`, e.g. "" or "A: "); `arith` names
// the float predictions' type.
void print_certify_summary(const std::string& who, const gpu::CertifyReport& r, Account& out,
                           const std::string& arith = "float32");
// Counts, per-depth fractions decided at float64, and every prompt's status,
// certified prediction, float prediction (null when its state overflowed), flip and
// margin enclosure [lo, hi] (decimal strings that read back as the same doubles;
// "-inf" / "+inf" for an end beyond them).
Json certify_json(const gpu::CertifyReport& r);
// --csv of `batch --certify`: the per-depth line as a table, one row per depth t:
// `decided_float64` (prompts whose margin the float64 tier certifies there) and
// `fraction` (of all prompts).
CsvTable certify_csv(const gpu::CertifyReport& r);

}  // namespace iclcert::api

// Transitional (issue 24): the commands of cli/ still name these unqualified.
namespace iclcert::cli {
using namespace iclcert::api;
}
