package dev.tether.manager.tls;

import static java.nio.charset.StandardCharsets.US_ASCII;

import com.google.common.io.BaseEncoding;
import dev.tether.common.files.PrivateFiles;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manager's TLS certificate and private key as PEM files. On first start a P-256 key and a
 * self-signed certificate (localhost, this host's name, the loopback addresses and any names the
 * operator adds) are generated with Bouncy Castle into the data directory; later starts reuse them.
 */
public final class TlsMaterial {

  public static final String CERT_FILE = "manager.crt";
  public static final String KEY_FILE = "manager.key";
  private static final Duration VALIDITY = Duration.ofDays(5 * 365);
  private static final Logger log = LoggerFactory.getLogger(TlsMaterial.class);
  private static final String GENERATED_KEY_HOLDS = "the manager's TLS private key, with which anyone"
      + " could impersonate this manager";
  private static final String OPERATOR_KEY_HOLDS = "the TLS private key of --tls-cert, with which anyone"
      + " could impersonate this manager";

  private final Path certificate;
  private final Path privateKey;
  private final X509Certificate parsed;

  private TlsMaterial(Path certificate, Path privateKey) {
    this.certificate = certificate;
    this.privateKey = privateKey;
    this.parsed = read(certificate);
  }

  /**
   * The operator's own certificate chain and PKCS#8 key. A key that other users can read is used,
   * with a warning: its mode is the operator's decision (a mounted Kubernetes Secret is 0644 unless
   * its {@code defaultMode} says otherwise).
   */
  public static TlsMaterial of(Path certificate, Path privateKey) {
    if (!Files.isReadable(certificate)) {
      throw new IllegalArgumentException("--tls-cert " + certificate + " is not a readable file");
    }
    if (!Files.isReadable(privateKey)) {
      throw new IllegalArgumentException("--tls-key " + privateKey + " is not a readable file");
    }
    try {
      PrivateFiles.problem(privateKey, OPERATOR_KEY_HOLDS)
          .ifPresent(problem -> log.warn("--tls-key: {} (used anyway: it is your file)", problem));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the permissions of --tls-key " + privateKey, e);
    }
    return new TlsMaterial(certificate, privateKey);
  }

  /**
   * The generated pair in {@code dir} (created 0700), created on first use. The key file is 0600
   * and refused if other users can read it; the certificate is 0600 too, being inside the
   * private directory anyway.
   */
  public static TlsMaterial loadOrGenerate(Path dir, List<String> extraNames) {
    Path cert = dir.resolve(CERT_FILE);
    Path key = dir.resolve(KEY_FILE);
    try {
      if (Files.exists(cert) && Files.exists(key)) {
        PrivateFiles.checkPrivate(key, GENERATED_KEY_HOLDS);
        return new TlsMaterial(cert, key);
      }
      PrivateFiles.createDirectory(dir);
      generate(cert, key, extraNames);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write TLS certificate into " + dir, e);
    } catch (GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException e) {
      throw new IllegalStateException("cannot generate a TLS certificate", e);
    }
    return new TlsMaterial(cert, key);
  }

  private static void generate(Path certFile, Path keyFile, List<String> extraNames)
      throws IOException, GeneralSecurityException, org.bouncycastle.operator.OperatorCreationException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair pair = generator.generateKeyPair();
    Set<String> names = new LinkedHashSet<>(List.of("localhost"));
    try {
      names.add(InetAddress.getLocalHost().getHostName());
    } catch (IOException e) {
      // no resolvable host name: localhost and the addresses still work
    }
    names.addAll(extraNames);
    List<GeneralName> san = new ArrayList<>();
    for (String name : names) {
      san.add(new GeneralName(looksLikeAddress(name) ? GeneralName.iPAddress : GeneralName.dNSName, name));
    }
    san.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
    san.add(new GeneralName(GeneralName.iPAddress, "::1"));
    Instant now = Instant.now();
    X500Name subject = new X500Name("CN=tether-manager");
    X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject,
        new BigInteger(127, new SecureRandom()), Date.from(now.minus(Duration.ofHours(1))),
        Date.from(now.plus(VALIDITY)), subject, pair.getPublic());
    builder.addExtension(Extension.subjectAlternativeName, false,
        new GeneralNames(san.toArray(new GeneralName[0])));
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
    builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
    X509Certificate certificate = new JcaX509CertificateConverter()
        .getCertificate(builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())));

    // the key first: a certificate on disk means its key is complete (loadOrGenerate needs both)
    PrivateFiles.replaceFile(keyFile, pem(new JcaPKCS8Generator(pair.getPrivate(), null)).getBytes(US_ASCII));
    PrivateFiles.replaceFile(certFile, pem(certificate).getBytes(US_ASCII));
  }

  private static boolean looksLikeAddress(String name) {
    return name.matches("[0-9.]+") || name.contains(":");
  }

  private static String pem(Object object) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    }
    return out.toString();
  }

  private static X509Certificate read(Path file) {
    try (var in = Files.newInputStream(file)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read TLS certificate " + file + ": " + e.getMessage(), e);
    }
  }

  public Path certificate() {
    return certificate;
  }

  public Path privateKey() {
    return privateKey;
  }

  /** The leaf certificate, parsed. */
  public X509Certificate leafCertificate() {
    return parsed;
  }

  /** SHA-256 fingerprint of the leaf certificate, as colon-separated uppercase hex. */
  public String fingerprint() {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(parsed.getEncoded());
      String hex = BaseEncoding.base16().encode(digest);
      StringBuilder out = new StringBuilder();
      for (int i = 0; i < hex.length(); i += 2) {
        if (i > 0) {
          out.append(':');
        }
        out.append(hex, i, i + 2);
      }
      return out.toString();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
