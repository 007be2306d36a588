// PKI generation with the OpenSSL 3 C API. Every OpenSSL object is held by a
// unique_ptr with its free function, so each early return cleans up.

#include "apiserver/tls.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "base/file.h"
#include "base/log.h"

namespace skiff::apiserver {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Bn = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using Ext = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

constexpr long kTenYears = 10L * 365 * 24 * 3600;

std::string sslError(const std::string& what) {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown error";
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return what + ": " + buf;
}

Error tlsError(const std::string& what) {
  return makeError(Code::kInternal, sslError(what));
}

bool isIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string sanEntry(const std::string& name) {
  return (isIp(name) ? "IP:" : "DNS:") + name;
}

Result<std::string> bioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  if (n < 0) return tlsError("read memory bio");
  return std::string(data, size_t(n));
}

Result<std::string> keyPem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr))
    return tlsError("encode private key");
  return bioString(bio.get());
}

Result<std::string> certPem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_X509(bio.get(), cert)) return tlsError("encode certificate");
  return bioString(bio.get());
}

Result<Cert> parseCert(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return tlsError("parse certificate");
  return cert;
}

Result<PKey> parseKey(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
  PKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return tlsError("parse private key");
  return key;
}

Result<PKey> newKey() {
  PKey key(EVP_EC_gen("P-256"));
  if (!key) return tlsError("generate ECDSA P-256 key");
  return key;
}

Status addExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || !X509_add_ext(cert, ext.get(), -1))
    return tlsError(std::string("add extension ") + OBJ_nid2sn(nid) + "=" + value);
  return {};
}

// A certificate for `key` named `cn`, signed by `issuerKey` (and `issuer`, or
// self-signed when issuer is null).
Result<Cert> issue(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuerKey,
                   bool isCa, const std::string& sans) {
  Cert cert(X509_new());
  if (!cert) return tlsError("new certificate");
  X509_set_version(cert.get(), 2);  // v3
  Bn serial(BN_new());
  if (!serial || !BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())))
    return tlsError("certificate serial");
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // tolerate clock skew
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), kTenYears);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("skiff"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  if (!X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) ||
      !X509_set_pubkey(cert.get(), key))
    return tlsError("certificate names");
  if (isCa) {
    if (auto st = addExt(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE"); !st)
      return st.error();
    if (auto st = addExt(cert.get(), signer, NID_key_usage,
                         "critical,digitalSignature,keyCertSign,cRLSign");
        !st)
      return st.error();
    if (auto st = addExt(cert.get(), signer, NID_subject_key_identifier, "hash"); !st)
      return st.error();
  } else {
    if (auto st = addExt(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE"); !st)
      return st.error();
    if (auto st = addExt(cert.get(), signer, NID_key_usage, "critical,digitalSignature"); !st)
      return st.error();
    if (auto st = addExt(cert.get(), signer, NID_ext_key_usage, "serverAuth"); !st)
      return st.error();
    if (auto st = addExt(cert.get(), signer, NID_authority_key_identifier, "keyid:always"); !st)
      return st.error();
    if (auto st = addExt(cert.get(), signer, NID_subject_alt_name, sans); !st) return st.error();
  }
  if (!X509_sign(cert.get(), issuerKey, EVP_sha256())) return tlsError("sign certificate");
  return cert;
}

std::vector<std::string> wantedSans(const std::vector<std::string>& extra) {
  std::vector<std::string> sans = {"IP:127.0.0.1", "IP:0:0:0:0:0:0:0:1", "DNS:localhost"};
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0 && host[0]) sans.push_back(sanEntry(host));
  for (const auto& e : extra) {
    if (e.empty()) continue;
    std::string entry = sanEntry(e);
    // OpenSSL prints IPv6 SANs uncompressed; normalise so comparisons work.
    if (entry.rfind("IP:", 0) == 0) {
      unsigned char buf[16];
      if (inet_pton(AF_INET6, e.c_str(), buf) == 1) {
        char out[64];
        std::snprintf(out, sizeof out, "IP:%X:%X:%X:%X:%X:%X:%X:%X", buf[0] << 8 | buf[1],
                      buf[2] << 8 | buf[3], buf[4] << 8 | buf[5], buf[6] << 8 | buf[7],
                      buf[8] << 8 | buf[9], buf[10] << 8 | buf[11], buf[12] << 8 | buf[13],
                      buf[14] << 8 | buf[15]);
        entry = out;
      }
    }
    if (std::find(sans.begin(), sans.end(), entry) == sans.end()) sans.push_back(entry);
  }
  return sans;
}

std::string joinSans(const std::vector<std::string>& sans) {
  std::string out;
  for (const auto& s : sans) out += (out.empty() ? "" : ",") + s;
  return out;
}

bool fileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

Result<std::vector<std::string>> certificateSans(const std::string& pem) {
  auto cert = parseCert(pem);
  if (!cert) return cert.error();
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert->get(), NID_subject_alt_name, nullptr, nullptr));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type == GEN_DNS) {
      const ASN1_IA5STRING* s = gn->d.dNSName;
      out.push_back("DNS:" +
                    std::string(reinterpret_cast<const char*>(s->data), size_t(s->length)));
    } else if (gn->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = gn->d.iPAddress;
      char buf[64] = {};
      if (s->length == 4) {
        inet_ntop(AF_INET, s->data, buf, sizeof buf);
        out.push_back(std::string("IP:") + buf);
      } else if (s->length == 16) {
        const unsigned char* b = s->data;
        std::snprintf(buf, sizeof buf, "IP:%X:%X:%X:%X:%X:%X:%X:%X", b[0] << 8 | b[1],
                      b[2] << 8 | b[3], b[4] << 8 | b[5], b[6] << 8 | b[7], b[8] << 8 | b[9],
                      b[10] << 8 | b[11], b[12] << 8 | b[13], b[14] << 8 | b[15]);
        out.push_back(buf);
      }
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

Result<PkiFiles> ensurePki(const std::string& dataDir, const std::vector<std::string>& extraSans) {
  PkiFiles f;
  f.dir = dataDir + "/pki";
  f.caCert = f.dir + "/ca.crt";
  f.caKey = f.dir + "/ca.key";
  f.serverCert = f.dir + "/server.crt";
  f.serverKey = f.dir + "/server.key";
  if (::mkdir(f.dir.c_str(), 0700) != 0 && errno != EEXIST)
    return makeError(Code::kInternal, "mkdir " + f.dir + ": " + std::strerror(errno));

  // The CA: reuse, or create (which forces a new server certificate too).
  PKey caKey;
  Cert caCert;
  bool newCa = false;
  if (fileExists(f.caCert) && fileExists(f.caKey)) {
    auto pem = readWholeFile(f.caCert);
    if (!pem) return pem.error();
    f.caPem = *pem;
  } else {
    auto key = newKey();
    if (!key) return key.error().wrap("create " + f.caKey);
    auto cert = issue(key->get(), "skiff-ca", nullptr, key->get(), true, "");
    if (!cert) return cert.error().wrap("create " + f.caCert);
    auto kp = keyPem(key->get());
    auto cp = certPem(cert->get());
    if (!kp) return kp.error();
    if (!cp) return cp.error();
    if (auto st = writeFileAtomic(f.caKey, *kp, {.mode = 0600}); !st) return st.error();
    if (auto st = writeFileAtomic(f.caCert, *cp, {.mode = 0644}); !st) return st.error();
    f.caPem = *cp;
    caKey = std::move(*key);
    caCert = std::move(*cert);
    newCa = true;
    logInfo("tls created CA", {{"path", f.caCert}});
  }

  auto want = wantedSans(extraSans);
  if (!newCa && fileExists(f.serverCert) && fileExists(f.serverKey)) {
    auto pem = readWholeFile(f.serverCert);
    if (!pem) return pem.error();
    auto have = certificateSans(*pem);
    if (!have) return have.error().wrap("read " + f.serverCert);
    bool covered = std::all_of(want.begin(), want.end(), [&](const std::string& s) {
      return std::find(have->begin(), have->end(), s) != have->end();
    });
    if (covered) return f;
    logInfo("tls server certificate lacks a SAN; re-issuing", {{"sans", joinSans(want)}});
  }

  if (!caKey) {
    auto kp = readWholeFile(f.caKey);
    if (!kp) return kp.error();
    auto key = parseKey(*kp);
    if (!key) return key.error().wrap("read " + f.caKey);
    auto cert = parseCert(f.caPem);
    if (!cert) return cert.error().wrap("read " + f.caCert);
    caKey = std::move(*key);
    caCert = std::move(*cert);
  }
  auto key = newKey();
  if (!key) return key.error().wrap("create " + f.serverKey);
  auto cert =
      issue(key->get(), "skiff-apiserver", caCert.get(), caKey.get(), false, joinSans(want));
  if (!cert) return cert.error().wrap("create " + f.serverCert);
  auto kp = keyPem(key->get());
  auto cp = certPem(cert->get());
  if (!kp) return kp.error();
  if (!cp) return cp.error();
  if (auto st = writeFileAtomic(f.serverKey, *kp, {.mode = 0600}); !st) return st.error();
  // The chain: leaf then CA, so clients that do not know the CA still see it.
  if (auto st = writeFileAtomic(f.serverCert, *cp + f.caPem, {.mode = 0644}); !st)
    return st.error();
  logInfo("tls created server certificate", {{"path", f.serverCert}, {"sans", joinSans(want)}});
  return f;
}

}  // namespace skiff::apiserver
