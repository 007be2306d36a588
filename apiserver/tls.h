// The apiserver's TLS material: a self-signed CA and a server certificate it
// signs, generated with OpenSSL 3's C API on first start and reused afterwards.
//
//   DIR/pki/ca.crt      CA certificate (ECDSA P-256, 10 years)      0644
//   DIR/pki/ca.key      CA private key (PKCS#8 PEM)                 0600
//   DIR/pki/server.crt  server certificate, then the CA (a chain)   0644
//   DIR/pki/server.key  server private key                          0600
//
// The server certificate carries SANs IP:127.0.0.1, IP:::1, DNS:localhost, the
// host name, and any extra SANs asked for (the listen IP). A later start that
// asks for a SAN the existing certificate lacks re-issues the server
// certificate with the same CA, so existing kubeconfigs stay valid; a start
// whose SANs are covered only reads the files (no key generation).
//
// Thread-safety: free functions over the filesystem; call from one thread.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace skiff::apiserver {

struct PkiFiles {
  std::string dir;  // DIR/pki
  std::string caCert, caKey, serverCert, serverKey;
  std::string caPem;  // the CA certificate, PEM, for kubeconfigs
};

// Ensures the files above exist under `dataDir`/pki (created 0700) and the
// server certificate covers `extraSans` ("10.0.0.5", "myhost"; IP literals
// become IP SANs, the rest DNS SANs). Errors name the file and the step.
Result<PkiFiles> ensurePki(const std::string& dataDir, const std::vector<std::string>& extraSans);

// The SANs of a PEM certificate, as "IP:127.0.0.1" / "DNS:localhost" (tests).
Result<std::vector<std::string>> certificateSans(const std::string& certPem);

}  // namespace skiff::apiserver
