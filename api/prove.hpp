// `prove` as a call: a one-layer lemma proved with Z3 (proofs/, theory/smt_lemmas.md).
// Built only with Z3 (ICLCERT_HAVE_Z3).
#pragma once

#include "api/account.hpp"
#include "api/control.hpp"
#include "proofs/lemmas.hpp"

#include <string>

namespace iclcert::api {

struct ProveRequest {
  std::string lemma;  // proofs::lemma_names()
  int classes = 3;    // C for A1 and A1-false
  double timeout_s = 60;  // per solver query, 0.001 to 86400
  // Files to write (empty: none), together at the end or not at all: every query
  // as DIR/NAME.smt2, the verdict file, the table of queries as CSV.
  std::string export_dir, json_out, csv_out;
  AccountReceiver on_account;
};

struct ProveResult {
  proofs::LemmaResult lemma;
  Json verdict;         // the verdict file's content
  std::string account;  // what `iclcert prove` prints
  int exit_status = 3;  // 0 proved, 1 refuted, 3 undecided
};

// Throws std::invalid_argument or InputError (bad options) and Cancelled (checked
// before and after the solver, which runs as one unit).
ProveResult prove(const ProveRequest& request, const Control& control = {});

}  // namespace iclcert::api
