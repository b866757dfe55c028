#include "proofs/query.hpp"

#include "proofs/smt_symbol.hpp"

#include <chrono>
#include <sstream>

namespace iclcert::proofs {
namespace {

z3::tactic tactic_for(z3::context& ctx, Method m) {
  if (m == Method::nlsat) return z3::tactic(ctx, "qfnra-nlsat");
  z3::params p(ctx);
  p.set("som", true);
  p.set("som_blowup", 4294967295u);
  return z3::with(z3::tactic(ctx, "simplify"), p) & z3::tactic(ctx, "smt");
}

// Z3's resource count so far in the solver's context (cumulative over its checks).
std::uint64_t rlimit_count(const z3::solver& s) {
  const z3::stats st = s.statistics();
  for (unsigned i = 0; i < st.size(); ++i)
    if (st.key(i) == "rlimit count")
      return st.is_uint(i) ? st.uint_value(i) : static_cast<std::uint64_t>(st.double_value(i));
  return 0;
}

}  // namespace

const char* answer_name(Answer a) {
  switch (a) {
    case Answer::unsat: return "unsat";
    case Answer::sat: return "sat";
    case Answer::unknown: return "unknown";
  }
  return "unknown";
}

QueryOutcome solve(const Query& q, unsigned timeout_ms, unsigned rlimit) {
  z3::context& ctx = q.formula.ctx();
  const z3::tactic t = tactic_for(ctx, q.method);
  z3::solver s = (timeout_ms > 0 ? z3::try_for(t, timeout_ms) : t).mk_solver();
  z3::params p(ctx);
  // Z3 takes SIGINT for itself during a check (it cancels the query and the
  // command went on): the command's own handler (io/cleanup.hpp) must see it.
  p.set("ctrl_c", false);
  if (rlimit > 0) p.set("rlimit", rlimit);  // counted from this check on (Z3_solver_check's scoped limit)
  s.set(p);
  s.add(q.formula);
  QueryOutcome out;
  const std::uint64_t count_before = rlimit_count(s);
  const auto start = std::chrono::steady_clock::now();
  z3::check_result r = z3::unknown;
  try {
    r = s.check();
  } catch (const z3::exception& e) {
    out.reason = e.msg();  // a limit reached inside try_for surfaces as an exception or as unknown
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.rlimit_used = rlimit_count(s) - count_before;
  if (r == z3::unsat) out.answer = Answer::unsat;
  else if (r == z3::sat) {
    out.answer = Answer::sat;
    out.model = s.get_model();
  } else if (out.reason.empty()) {
    out.reason = s.reason_unknown();
  }
  return out;
}

std::string to_smtlib(const Query& q) {
  const bool functions = check_exported_symbols(q.formula);
  z3::solver s(q.formula.ctx());
  s.add(q.formula);
  std::string body = s.to_smt2();
  // to_smt2 ends with (check-sat); the file asks in plain SMT-LIB2 below.
  const std::string tail = "(check-sat)\n";
  if (body.size() >= tail.size() && body.compare(body.size() - tail.size(), tail.size(), tail) == 0)
    body.erase(body.size() - tail.size());
  std::ostringstream out;
  out << "; iclcert query " << q.name << "\n"
      << "; encodes: the NEGATION of: " << q.encodes << "\n"
      << "; answer: unsat = the step holds for every value of the symbols (proved);\n"
      << ";         sat = a candidate counterexample (a model of the negation);\n"
      << ";         unknown = undecided.\n"
      << "; standard SMT-LIB2, re-run as it is by z3 and by cvc5 (tests/proofs/export_test.cpp).\n";
  if (q.method == Method::normalise)
    out << "; method: an identity P != 0 with denominators cleared; iclcert proves it with Z3's\n"
        << ";         sum-of-monomials normaliser, which the z3 binary uses when (check-sat) is\n"
        << ";         replaced by (check-sat-using (then (using-params simplify :som true\n"
        << ";         :som_blowup 4294967295) smt)).\n";
  else
    out << "; method: nonlinear real arithmetic, Z3's complete nlsat procedure.\n";
  out << "(set-logic " << (functions ? "QF_UFNRA" : "QF_NRA") << ")\n" << body << "(check-sat)\n";
  return out.str();
}

}  // namespace iclcert::proofs
