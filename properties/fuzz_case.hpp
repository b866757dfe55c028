// One fuzz case: a prompt, a model and a group element, everything any property
// of the catalogue needs; written to JSON so that a counterexample can be
// replayed exactly (`iclcert fuzz --replay FILE`).
//
// Counterexample file:
//   { "format": 1, "property": "E1-feature", "arith": "rational", "seed": 7,
//     "detail": "...", "case": { "prompt": {...}, "model": {...},
//     "permutation": { "features": [...], "labels": [...], "tokens": [...] } } }
// prompt and model are in the formats of docs/formats.md.
#pragma once

#include "io/json_reader.hpp"
#include "numerics/model.hpp"
#include "numerics/prompt.hpp"
#include "properties/group_action.hpp"

#include <cstdint>
#include <iosfwd>
#include <string>

namespace iclcert::properties {

struct FuzzCase {
  Prompt prompt;
  Model model;
  GroupElement g;
};

Json case_to_json(const FuzzCase& c);
// Throws InputError naming `file` and the field.
FuzzCase case_from_json(const Json& json, const std::string& file);

// What RapidCheck prints for a counterexample: the case as compact JSON.
void showValue(const FuzzCase& c, std::ostream& os);

struct Counterexample {
  std::string property, arith, detail;
  std::uint64_t seed = 0;
  double tolerance = 0;  // property "equivariance" only: the tolerance it was judged by
  FuzzCase c;
};

Json counterexample_to_json(const Counterexample& ce);
Counterexample read_counterexample_file(const std::string& path);

}  // namespace iclcert::properties
