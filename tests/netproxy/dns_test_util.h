// DNS helpers for netproxy's tests: queries built and answers read with ldns.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include <ldns/ldns.h>

namespace skiff::netproxy::testing {

struct Pkt {
  ldns_pkt* p = nullptr;
  ~Pkt() {
    if (p) ldns_pkt_free(p);
  }
};

inline std::string query(const std::string& name, ldns_rr_type type, uint16_t id = 4242) {
  ldns_pkt* q = nullptr;
  REQUIRE(ldns_pkt_query_new_frm_str(&q, name.c_str(), type, LDNS_RR_CLASS_IN, LDNS_RD) ==
          LDNS_STATUS_OK);
  ldns_pkt_set_id(q, id);
  uint8_t* wire = nullptr;
  size_t size = 0;
  REQUIRE(ldns_pkt2wire(&wire, q, &size) == LDNS_STATUS_OK);
  std::string out(reinterpret_cast<char*>(wire), size);
  free(wire);
  ldns_pkt_free(q);
  return out;
}

// "RCODE answer1;answer2" with answers as "name type rdata".
inline std::string describe(const std::string& wire) {
  Pkt r;
  if (ldns_wire2pkt(&r.p, reinterpret_cast<const uint8_t*>(wire.data()), wire.size()) !=
      LDNS_STATUS_OK)
    return "unparseable";
  char* rc = ldns_pkt_rcode2str(ldns_pkt_get_rcode(r.p));
  std::string out = rc;
  free(rc);
  ldns_rr_list* an = ldns_pkt_answer(r.p);
  for (size_t i = 0; an && i < ldns_rr_list_rr_count(an); ++i) {
    ldns_rr* rr = ldns_rr_list_rr(an, i);
    char* owner = ldns_rdf2str(ldns_rr_owner(rr));
    char* type = ldns_rr_type2str(ldns_rr_get_type(rr));
    std::string rdata;
    for (size_t j = 0; j < ldns_rr_rd_count(rr); ++j) {
      char* d = ldns_rdf2str(ldns_rr_rdf(rr, j));
      rdata += (j ? " " : "") + std::string(d);
      free(d);
    }
    out += std::string(i ? ";" : " ") + owner + " " + type + " " + rdata;
    free(owner);
    free(type);
  }
  return out;
}

}  // namespace skiff::netproxy::testing
