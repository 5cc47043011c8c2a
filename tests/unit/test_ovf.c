// SPDX-License-Identifier: MIT
/* ovf-env.xml: real-world shapes, hostile documents, redaction, the media reader. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "ovf.h"
#include "root.h"
#include "sysfile.h"

#define XML_DECL "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
#define ENV_OPEN XML_DECL ENV_ROOT
#define ENV_ROOT                                                                         \
	"<Environment xmlns=\"http://schemas.dmtf.org/ovf/environment/1\" "                \
	"xmlns:oe=\"http://schemas.dmtf.org/ovf/environment/1\" "                          \
	"xmlns:wa=\"http://schemas.microsoft.com/windowsazure\" "                          \
	"xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
#define PROV_OPEN                                                                        \
	" <wa:ProvisioningSection><wa:Version>1.0</wa:Version>\n"                          \
	"  <LinuxProvisioningConfigurationSet xmlns=\"http://schemas.microsoft.com/windowsazure\" " \
	"xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">\n"                         \
	"   <ConfigurationSetType>LinuxProvisioningConfiguration</ConfigurationSetType>\n"
#define PROV_CLOSE "  </LinuxProvisioningConfigurationSet>\n </wa:ProvisioningSection>\n"
#define PLATFORM(body)                                                                   \
	" <wa:PlatformSettingsSection><wa:Version>1.0</wa:Version>\n"                      \
	"  <PlatformSettings xmlns=\"http://schemas.microsoft.com/windowsazure\" "          \
	"xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\">\n" body                      \
	"  </PlatformSettings>\n </wa:PlatformSettingsSection>\n"
#define ENV_CLOSE "</Environment>\n"
#define DOC(lpcs, platform) ENV_OPEN PROV_OPEN lpcs PROV_CLOSE platform ENV_CLOSE

/* The shape Azure sends (as WALinuxAgent's and cloud-init's fixtures describe it). */
static const char full_doc[] = DOC(
	"   <HostName>myvm01</HostName>\n"
	"   <UserName>azureuser</UserName>\n"
	"   <UserPassword>Secr3t!Passw0rd</UserPassword>\n"
	"   <DisableSshPasswordAuthentication>false</DisableSshPasswordAuthentication>\n"
	"   <SSH>\n    <PublicKeys>\n"
	"     <PublicKey><Fingerprint>8B5E5F4C1BD0E7E1A0F0C5D2E4F1A2B3C4D5E6F7</Fingerprint>"
	"<Path>/home/azureuser/.ssh/authorized_keys</Path></PublicKey>\n"
	"     <PublicKey><Fingerprint>0011223344556677889900AABBCCDDEEFF001122</Fingerprint>"
	"<Path>/home/azureuser/.ssh/authorized_keys</Path>"
	"<Value>ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample user@host</Value></PublicKey>\n"
	"    </PublicKeys>\n"
	"    <KeyPairs><KeyPair><Fingerprint>AA</Fingerprint><Path>/home/azureuser/.ssh/id_rsa</Path>"
	"</KeyPair></KeyPairs>\n"
	"   </SSH>\n"
	"   <CustomData>I2Nsb3VkLWNvbmZpZwo=</CustomData>\n",
	PLATFORM("   <KmsServerHostname>kms.core.windows.net</KmsServerHostname>\n"
		 "   <ProvisionGuestAgent>true</ProvisionGuestAgent>\n"
		 "   <GuestAgentPackageName i:nil=\"true\"/>\n"
		 "   <RetainWindowsPEPassInUnattend>true</RetainWindowsPEPassInUnattend>\n"
		 "   <PreprovisionedVm>false</PreprovisionedVm>\n"
		 "   <PreprovisionedVMType>None</PreprovisionedVMType>\n"));

struct parsed {
	struct ovf_env env;
	char err[256];
	int ret;
};

static void parse_str(struct parsed *p, const char *xml)
{
	p->err[0] = '\0';
	p->ret = ovf_parse(xml, strlen(xml), &p->env, p->err, sizeof(p->err));
}

static void test_full_document(void **state)
{
	struct parsed p;

	(void)state;
	parse_str(&p, full_doc);
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.env.hostname, "myvm01");
	assert_string_equal(p.env.username, "azureuser");
	assert_string_equal(p.env.password, "Secr3t!Passw0rd");
	assert_int_equal(p.env.disable_ssh_password_auth, 0);
	assert_int_equal(p.env.n_keys, 2);
	assert_string_equal(p.env.keys[0].fingerprint, "8B5E5F4C1BD0E7E1A0F0C5D2E4F1A2B3C4D5E6F7");
	assert_string_equal(p.env.keys[0].path, "/home/azureuser/.ssh/authorized_keys");
	assert_null(p.env.keys[0].value);
	assert_string_equal(p.env.keys[1].value,
			    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample user@host");
	assert_string_equal(p.env.custom_data, "I2Nsb3VkLWNvbmZpZwo=");
	assert_false(p.env.preprovisioned_vm);
	assert_string_equal(p.env.preprovisioned_vm_type, "None");
	ovf_env_free(&p.env);
	assert_null(p.env.password);
	ovf_env_free(&p.env); /* twice is harmless */
}

static void test_cdata_and_whitespace(void **state)
{
	struct parsed p;

	(void)state;
	parse_str(&p, DOC("   <HostName>\n\t  vm-cdata \n</HostName>\n"
			  "   <UserName><![CDATA[admin]]></UserName>\n"
			  "   <UserPassword><![CDATA[ <p&ss>\"'] ]]></UserPassword>\n"
			  "   <DisableSshPasswordAuthentication> TRUE </DisableSshPasswordAuthentication>\n"
			  "   <CustomData><![CDATA[\n  Zm9v\n  YmFy\n]]></CustomData>\n",
			  ""));
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.env.hostname, "vm-cdata");
	assert_string_equal(p.env.username, "admin");
	/* the password is taken byte for byte, white space included */
	assert_string_equal(p.env.password, " <p&ss>\"'] ");
	assert_int_equal(p.env.disable_ssh_password_auth, 1);
	assert_string_equal(p.env.custom_data, "Zm9v\n  YmFy");
	assert_int_equal(p.env.n_keys, 0);
	assert_null(p.env.preprovisioned_vm_type);
	ovf_env_free(&p.env);
}

static void test_other_prefixes(void **state)
{
	static const char xml[] =
		"<ovfenv:Environment xmlns:ovfenv=\"http://schemas.dmtf.org/ovf/environment/1\" "
		"xmlns:az=\"http://schemas.microsoft.com/windowsazure\">"
		"<az:ProvisioningSection><az:LinuxProvisioningConfigurationSet>"
		"<az:HostName>pfx</az:HostName><az:UserName>u1</az:UserName>"
		"<az:SSH><az:PublicKeys><az:PublicKey><az:Value>ssh-rsa AAAA k</az:Value>"
		"</az:PublicKey></az:PublicKeys></az:SSH>"
		"</az:LinuxProvisioningConfigurationSet></az:ProvisioningSection>"
		"<az:PlatformSettingsSection><az:PlatformSettings>"
		"<az:PreprovisionedVm>true</az:PreprovisionedVm>"
		"<az:PreprovisionedVmType>Savable</az:PreprovisionedVmType>"
		"</az:PlatformSettings></az:PlatformSettingsSection></ovfenv:Environment>";
	struct parsed p;

	(void)state;
	parse_str(&p, xml);
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.env.hostname, "pfx");
	assert_string_equal(p.env.username, "u1");
	assert_null(p.env.password);
	assert_int_equal(p.env.disable_ssh_password_auth, -1);
	assert_int_equal(p.env.n_keys, 1);
	assert_null(p.env.keys[0].fingerprint);
	assert_string_equal(p.env.keys[0].value, "ssh-rsa AAAA k");
	assert_true(p.env.preprovisioned_vm);
	assert_string_equal(p.env.preprovisioned_vm_type, "Savable");
	ovf_env_free(&p.env);
}

/* Same local names in the wrong namespace are not ours: namespace, not prefix. */
static void test_wrong_namespace_ignored(void **state)
{
	struct parsed p;

	(void)state;
	parse_str(&p, DOC("   <HostName xmlns=\"urn:other\">evil</HostName>\n"
			  "   <x:UserName xmlns:x=\"urn:other\">evil</x:UserName>\n"
			  "   <wa:HostName>good</wa:HostName>\n"
			  "   <Unknown><Deep>stuff</Deep></Unknown>\n",
			  ""));
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.env.hostname, "good");
	assert_null(p.env.username);
	ovf_env_free(&p.env);

	/* the section itself in the OVF namespace (wa prefix forgotten) is not found */
	parse_str(&p, ENV_OPEN "<ProvisioningSection><LinuxProvisioningConfigurationSet>"
		      "<HostName>x</HostName></LinuxProvisioningConfigurationSet>"
		      "</ProvisioningSection>" ENV_CLOSE);
	assert_int_equal(p.ret, -EINVAL);
	assert_non_null(strstr(p.err, "ProvisioningSection"));
}

static void test_both_type_spellings(void **state)
{
	struct parsed p;

	(void)state;
	parse_str(&p, DOC("<HostName>h</HostName>",
			  PLATFORM("<PreprovisionedVm>true</PreprovisionedVm>"
				   "<PreprovisionedVMType>Running</PreprovisionedVMType>")));
	assert_int_equal(p.ret, 0);
	assert_true(p.env.preprovisioned_vm);
	assert_string_equal(p.env.preprovisioned_vm_type, "Running");
	ovf_env_free(&p.env);

	parse_str(&p, DOC("<HostName>h</HostName>",
			  PLATFORM("<PreprovisionedVmType>PreprovisionedOSDisk</PreprovisionedVmType>")));
	assert_int_equal(p.ret, 0);
	assert_false(p.env.preprovisioned_vm);
	assert_string_equal(p.env.preprovisioned_vm_type, "PreprovisionedOSDisk");
	ovf_env_free(&p.env);

	parse_str(&p, DOC("<HostName>h</HostName>",
			  PLATFORM("<PreprovisionedVMType>Savable</PreprovisionedVMType>"
				   "<PreprovisionedVmType>Savable</PreprovisionedVmType>")));
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.env.preprovisioned_vm_type, "Savable");
	ovf_env_free(&p.env);

	parse_str(&p, DOC("<HostName>h</HostName>",
			  PLATFORM("<PreprovisionedVMType>Savable</PreprovisionedVMType>"
				   "<PreprovisionedVmType>Running</PreprovisionedVmType>")));
	assert_int_equal(p.ret, -EINVAL);
	assert_non_null(strstr(p.err, "disagree"));
}

static void test_missing_and_empty(void **state)
{
	struct parsed p;

	(void)state;
	parse_str(&p, DOC("   <HostName>only-host</HostName>\n", ""));
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.env.hostname, "only-host");
	assert_null(p.env.username);
	assert_null(p.env.password);
	assert_null(p.env.custom_data);
	assert_int_equal(p.env.disable_ssh_password_auth, -1);
	ovf_env_free(&p.env);

	parse_str(&p, DOC("<HostName></HostName><UserName/><UserPassword/>"
			  "<DisableSshPasswordAuthentication/><CustomData>  \n </CustomData>"
			  "<SSH/><UserData i:nil=\"true\">ignored</UserData>",
			  PLATFORM("<PreprovisionedVm/>")));
	assert_int_equal(p.ret, 0);
	assert_null(p.env.hostname);
	assert_null(p.env.username);
	assert_null(p.env.password);
	assert_null(p.env.custom_data);
	assert_int_equal(p.env.disable_ssh_password_auth, -1);
	assert_false(p.env.preprovisioned_vm);
	ovf_env_free(&p.env);

	/* UserData is the other spelling of CustomData */
	parse_str(&p, DOC("<UserData> dXNlcg== </UserData>", ""));
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.env.custom_data, "dXNlcg==");
	ovf_env_free(&p.env);
}

static void expect_invalid(const char *xml, const char *what)
{
	struct parsed p;

	parse_str(&p, xml);
	assert_int_equal(p.ret, -EINVAL);
	if (!strstr(p.err, what))
		fail_msg("error \"%s\" does not mention \"%s\"", p.err, what);
	assert_null(p.env.hostname); /* nothing half-filled is left behind */
}

static void test_invalid_documents(void **state)
{
	(void)state;
	expect_invalid("not xml at all", "not well-formed");
	expect_invalid("<Environment xmlns=\"urn:x\"/>", "Environment");
	expect_invalid(ENV_OPEN ENV_CLOSE, "ProvisioningSection");
	expect_invalid(ENV_OPEN "<wa:ProvisioningSection/>" ENV_CLOSE,
		       "LinuxProvisioningConfigurationSet");
	expect_invalid(DOC("<HostName>a</HostName><HostName>b</HostName>", ""), "twice");
	expect_invalid(DOC("<HostName>a<b/>c</HostName>", ""), "text only");
	expect_invalid(DOC("<HostName>x</HostName><DisableSshPasswordAuthentication>maybe"
			   "</DisableSshPasswordAuthentication>", ""),
		       "expected true or false");
	expect_invalid(DOC("<HostName>x</HostName><SSH><PublicKeys><PublicKey><Path>/p</Path>"
			   "</PublicKey></PublicKeys></SSH>", ""),
		       "neither Fingerprint nor Value");
	expect_invalid(ENV_OPEN PROV_OPEN "<HostName>x</HostName>" PROV_CLOSE, "not well-formed");
}

static void test_too_many_keys(void **state)
{
	char *xml = malloc(16384), *p;
	struct parsed r;

	(void)state;
	assert_non_null(xml);
	p = xml + sprintf(xml, "%s", ENV_OPEN PROV_OPEN "<SSH><PublicKeys>");
	for (int i = 0; i < OVF_MAX_KEYS + 1; i++)
		p += sprintf(p, "<PublicKey><Fingerprint>%02d</Fingerprint></PublicKey>", i);
	sprintf(p, "%s", "</PublicKeys></SSH>" PROV_CLOSE ENV_CLOSE);
	parse_str(&r, xml);
	assert_int_equal(r.ret, -EINVAL);
	assert_non_null(strstr(r.err, "more than"));
	free(xml);
}

/* XXE: an entity naming a local file must never be read into any field. */
static void test_xxe_refused(void **state)
{
	char marker[] = "/tmp/azl-ovf-xxe-XXXXXX", xml[2048];
	struct parsed p;
	int fd;

	(void)state;
	fd = mkstemp(marker);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "XXE-LEAKED-CONTENT", 18), 18);
	close(fd);
	snprintf(xml, sizeof(xml),
		 "<?xml version=\"1.0\"?>\n<!DOCTYPE Environment [ <!ENTITY leak SYSTEM \"file://%s\"> ]>\n"
		 ENV_ROOT PROV_OPEN "<HostName>&leak;</HostName><UserName>u&leak;</UserName>"
		 PROV_CLOSE ENV_CLOSE, marker);
	parse_str(&p, xml);
	assert_int_equal(p.ret, -EINVAL);
	assert_non_null(strstr(p.err, "entities"));
	assert_null(strstr(p.err, "XXE-LEAKED"));

	/* an external DTD (no entity declared in the document) is refused too */
	snprintf(xml, sizeof(xml),
		 "<!DOCTYPE Environment SYSTEM \"file://%s\">\n" ENV_ROOT PROV_OPEN
		 "<HostName>h</HostName>" PROV_CLOSE ENV_CLOSE, marker);
	parse_str(&p, xml);
	assert_int_equal(p.ret, -EINVAL);
	assert_non_null(strstr(p.err, "DTD"));
	unlink(marker);

	/* a bare DOCTYPE is harmless and accepted */
	parse_str(&p, XML_DECL "<!DOCTYPE Environment>\n" ENV_ROOT PROV_OPEN "<HostName>h</HostName>"
		      PROV_CLOSE ENV_CLOSE);
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.env.hostname, "h");
	ovf_env_free(&p.env);
}

static void test_billion_laughs(void **state)
{
	static const char xml[] =
		"<?xml version=\"1.0\"?>\n<!DOCTYPE Environment [\n"
		" <!ENTITY a \"lollollollollollollollollollol\">\n"
		" <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
		" <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
		" <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
		" <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
		" <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n"
		" <!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\n"
		" <!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">\n"
		" <!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">\n"
		"]>\n" ENV_ROOT PROV_OPEN "<HostName>&i;</HostName>" PROV_CLOSE ENV_CLOSE;
	struct parsed p;
	char *out = NULL;
	size_t out_len = 0;

	(void)state;
	parse_str(&p, xml);
	assert_int_equal(p.ret, -EINVAL);
	assert_int_equal(ovf_redact(xml, strlen(xml), &out, &out_len), -EINVAL);
	assert_null(out);
}

static void test_huge_refused(void **state)
{
	size_t len = OVF_MAX_SIZE + 1;
	char *xml = malloc(len);
	struct parsed p;

	(void)state;
	assert_non_null(xml);
	memset(xml, ' ', len);
	memcpy(xml, "<a>", 3);
	p.ret = ovf_parse(xml, len, &p.env, p.err, sizeof(p.err));
	assert_int_equal(p.ret, -EFBIG);
	assert_non_null(strstr(p.err, "bytes"));
	p.ret = ovf_parse(xml, 0, &p.env, p.err, sizeof(p.err));
	assert_int_equal(p.ret, -EINVAL);
	free(xml);
}

/* Broken documents whose bad bytes are the password: the error never quotes them. */
static void test_errors_never_quote_password(void **state)
{
	static const char *const docs[] = {
		DOC("<HostName>h</HostName><UserPassword>pwAAA&pwBBB;</UserPassword>", ""),
		DOC("<HostName>h</HostName><UserPassword>pwCCC&pwDDD</UserPassword>", ""),
		DOC("<HostName>h</HostName><UserPassword>pwEEE</pwFFF></UserPassword>", ""),
		DOC("<HostName>h</HostName><UserPassword>pwGGG\xa3\xff</UserPassword>", ""),
		DOC("<HostName>h</HostName><UserPassword>pwHHH&#0;</UserPassword>", ""),
		DOC("<HostName>h</HostName><UserPassword>pwIII<pwJJJ</UserPassword>", ""),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct parsed p;

		parse_str(&p, docs[i]);
		assert_int_equal(p.ret, -EINVAL);
		if (strstr(p.err, "pw") || strstr(p.err, "0xA3") || strstr(p.err, "\xa3"))
			fail_msg("doc %zu: error quotes the document: %s", i, p.err);
		assert_non_null(strstr(p.err, "line"));
	}
}

/* libxml2 prints encoding errors with the bad bytes on stderr unless told not to. */
static void test_nothing_on_stderr(void **state)
{
	static const char xml[] = "<?xml version=\"1.0\" encoding=\"ISO-2022-JP\"?>\n" ENV_ROOT
		PROV_OPEN "<UserPassword>pw\xff\xfe\x80\x81\x1b$(\xff</UserPassword>" PROV_CLOSE
		ENV_CLOSE;
	char path[] = "/tmp/azl-ovf-stderr-XXXXXX", buf[512];
	struct parsed p;
	char *out = NULL;
	size_t out_len;
	int fd, saved;
	ssize_t n;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	parse_str(&p, xml);
	ovf_redact(xml, strlen(xml), &out, &out_len);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	assert_int_equal(p.ret, -EINVAL);
	assert_null(out);
	assert_null(strstr(p.err, "0xFF"));
	if (n != 0) {
		buf[n > 0 ? n : 0] = '\0';
		fail_msg("libxml2 wrote to stderr: %s", buf);
	}
}

static void test_latin1_document(void **state)
{
	static const char xml[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n" ENV_ROOT
		PROV_OPEN "<HostName>h</HostName><UserPassword>p\xa3ss</UserPassword>" PROV_CLOSE
		ENV_CLOSE;
	struct parsed p;
	char *out = NULL;
	size_t out_len;

	(void)state;
	parse_str(&p, xml);
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.env.password, "p\xc2\xa3ss"); /* UTF-8 now */
	ovf_env_free(&p.env);
	assert_int_equal(ovf_redact(xml, strlen(xml), &out, &out_len), 0);
	assert_null(memmem(out, out_len, "p\xa3ss", 4));
	parse_str(&p, out);
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.env.password, "REDACTED");
	ovf_env_free(&p.env);
	free(out);
}

static void assert_same_str(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void redact_round_trip(const char *xml, const char *secret)
{
	struct parsed orig, red;
	char *out = NULL;
	size_t out_len = 0;

	parse_str(&orig, xml);
	assert_int_equal(orig.ret, 0);
	assert_int_equal(ovf_redact(xml, strlen(xml), &out, &out_len), 0);
	assert_int_equal(strlen(out), out_len);
	if (secret)
		assert_null(strstr(out, secret));
	parse_str(&red, out);
	assert_int_equal(red.ret, 0);
	assert_same_str(red.env.password, orig.env.password ? "REDACTED" : NULL);
	assert_same_str(red.env.hostname, orig.env.hostname);
	assert_same_str(red.env.username, orig.env.username);
	assert_same_str(red.env.custom_data, orig.env.custom_data);
	assert_int_equal(red.env.disable_ssh_password_auth, orig.env.disable_ssh_password_auth);
	assert_int_equal(red.env.n_keys, orig.env.n_keys);
	for (size_t i = 0; i < orig.env.n_keys; i++) {
		assert_same_str(red.env.keys[i].fingerprint, orig.env.keys[i].fingerprint);
		assert_same_str(red.env.keys[i].path, orig.env.keys[i].path);
		assert_same_str(red.env.keys[i].value, orig.env.keys[i].value);
	}
	assert_int_equal(red.env.preprovisioned_vm, orig.env.preprovisioned_vm);
	assert_same_str(red.env.preprovisioned_vm_type, orig.env.preprovisioned_vm_type);
	ovf_env_free(&orig.env);
	ovf_env_free(&red.env);
	free(out);
}

static void test_redact_round_trip(void **state)
{
	(void)state;
	redact_round_trip(full_doc, "Secr3t!Passw0rd");
	redact_round_trip(DOC("<HostName>c</HostName><UserPassword><![CDATA[cdata<secret>]]>"
			      "</UserPassword><CustomData>Zm9v</CustomData>", ""),
			  "cdata<secret>");
	redact_round_trip(DOC("<HostName>e</HostName><UserPassword/>", ""), NULL);
	redact_round_trip(DOC("<HostName>n</HostName>", PLATFORM("<PreprovisionedVm>1</PreprovisionedVm>")),
			  NULL);
}

static void test_redact_refuses_bad(void **state)
{
	char *out = (char *)1;
	size_t len = 7;

	(void)state;
	assert_int_equal(ovf_redact("<broken", 7, &out, &len), -EINVAL);
	assert_null(out);
	assert_int_equal(len, 0);
}

/* ---- the media ----------------------------------------------------------- */

struct tree {
	char dir[64];
	struct root root;
};

static void mkdirs(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	mkdir(buf, 0755);
}

static void put(const char *dir, const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	*strrchr(path, '/') = '\0';
	mkdirs(path);
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int run(char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	snprintf(t->dir, sizeof(t->dir), "/tmp/azl-ovf-XXXXXX");
	if (!mkdtemp(t->dir) || root_init(&t->root, t->dir) < 0)
		return -1;
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	char *const argv[] = { "rm", "-rf", t->dir, NULL };

	run(argv);
	free(t);
	return 0;
}

static void test_read_dir(void **state)
{
	struct tree *t = *state;
	char path[PATH_MAX], err[256], *xml = NULL, *big;
	size_t len;

	snprintf(path, sizeof(path), "%s/m1", t->dir);
	put(path, "ovf-env.xml", full_doc, strlen(full_doc));
	assert_int_equal(ovf_media_read_dir(path, &xml, &len, err, sizeof(err)), 0);
	assert_int_equal(len, strlen(full_doc));
	assert_string_equal(xml, full_doc);
	free(xml);

	/* plain ISO9660 names: upper case */
	snprintf(path, sizeof(path), "%s/m2", t->dir);
	put(path, "OVF-ENV.XML", "<a/>", 4);
	assert_int_equal(ovf_media_read_dir(path, &xml, &len, err, sizeof(err)), 0);
	assert_string_equal(xml, "<a/>");
	free(xml);

	snprintf(path, sizeof(path), "%s/m3", t->dir);
	mkdirs(path);
	assert_int_equal(ovf_media_read_dir(path, &xml, &len, err, sizeof(err)), -ENOENT);
	assert_null(xml);
	assert_non_null(strstr(err, "no ovf-env.xml"));

	/* a FIFO would block a naive reader; a symlink could point anywhere */
	snprintf(path, sizeof(path), "%s/m3/ovf-env.xml", t->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/m3", t->dir);
	assert_int_equal(ovf_media_read_dir(path, &xml, &len, err, sizeof(err)), -EBADFD);
	snprintf(path, sizeof(path), "%s/m4/ovf-env.xml", t->dir);
	mkdirs(strcat(strcpy(err, t->dir), "/m4"));
	assert_int_equal(symlink("../m1/ovf-env.xml", path), 0);
	snprintf(path, sizeof(path), "%s/m4", t->dir);
	assert_int_equal(ovf_media_read_dir(path, &xml, &len, err, sizeof(err)), -ELOOP);

	big = calloc(1, OVF_MAX_SIZE + 10);
	assert_non_null(big);
	snprintf(path, sizeof(path), "%s/m5", t->dir);
	put(path, "ovf-env.xml", big, OVF_MAX_SIZE + 10);
	free(big);
	assert_int_equal(ovf_media_read_dir(path, &xml, &len, err, sizeof(err)), -EFBIG);
	assert_null(xml);
}

/* Just enough of an ISO9660 image for libblkid: a primary and a terminator descriptor. */
static void put_iso_signature(const char *dir, const char *rel)
{
	size_t len = 0x8000 + 3 * 2048;
	unsigned char *img = calloc(1, len);

	assert_non_null(img);
	img[0x8000] = 1;
	memcpy(img + 0x8001, "CD001\1", 6);
	memcpy(img + 0x8028, "OVF-ENV-TEST", 12);
	img[0x8800] = 255;
	memcpy(img + 0x8801, "CD001\1", 6);
	put(dir, rel, img, len);
	free(img);
}

static void test_candidates(void **state)
{
	struct tree *t = *state;
	char **devs = NULL, want[PATH_MAX], *zeros;
	size_t n = 0;

	/* no /dev, no /sys: nothing, and no error */
	assert_int_equal(ovf_media_candidates(&t->root, NULL, &devs, &n), 0);
	assert_int_equal(n, 0);

	zeros = calloc(1, 65536);
	assert_non_null(zeros);
	put(t->dir, "dev/sr0", zeros, 16); /* sr0 is tried even when unreadable */
	put(t->dir, "dev/sdb", zeros, 65536);
	free(zeros);
	put_iso_signature(t->dir, "dev/sdc");
	for (const char *const *d = (const char *const[]){ "sr0", "sda", "sdb", "sdc", NULL }; *d; d++) {
		snprintf(want, sizeof(want), "%s/sys/class/block/%s", t->dir, *d);
		mkdirs(want);
	}
	assert_int_equal(ovf_media_candidates(&t->root, NULL, &devs, &n), 0);
	assert_int_equal(n, 2);
	snprintf(want, sizeof(want), "%s/dev/sr0", t->dir);
	assert_string_equal(devs[0], want);
	snprintf(want, sizeof(want), "%s/dev/sdc", t->dir);
	assert_string_equal(devs[1], want);
	strv_free(devs, n);

	/* another type list: the iso is not an ext4 */
	assert_int_equal(ovf_media_candidates(&t->root, (const char *const[]){ "ext4", NULL },
					      &devs, &n), 0);
	assert_int_equal(n, 1);
	strv_free(devs, n);
}

static void test_no_media(void **state)
{
	struct tree *t = *state;
	char err[256], dev[PATH_MAX] = "x", *xml = NULL;
	size_t len = 1;

	assert_int_equal(ovf_media_read(&t->root, &xml, &len, dev, sizeof(dev), err, sizeof(err)),
			 -ENOENT);
	assert_null(xml);
	assert_int_equal(len, 0);
	assert_string_equal(dev, "");
	assert_non_null(strstr(err, "no provisioning media"));
}

static void test_eject_errors(void **state)
{
	struct tree *t = *state;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/nodev", t->dir);
	assert_int_equal(ovf_media_eject(path), -ENOENT);
	put(t->dir, "file", "x", 1);
	snprintf(path, sizeof(path), "%s/file", t->dir);
	assert_int_equal(ovf_media_eject(path), -ENOTTY);
}

struct loopdev {
	int fd;
	char path[64];
};

static int loop_attach(const char *image, struct loopdev *l)
{
	struct loop_info64 info = { .lo_flags = LO_FLAGS_READ_ONLY };
	int ctl, nr, ffd;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (nr < 0)
		return -errno;
	snprintf(l->path, sizeof(l->path), "/dev/loop%d", nr);
	l->fd = open(l->path, O_RDONLY | O_CLOEXEC);
	ffd = open(image, O_RDONLY | O_CLOEXEC);
	if (l->fd < 0 || ffd < 0 || ioctl(l->fd, LOOP_SET_FD, ffd) < 0) {
		int e = -errno;

		if (ffd >= 0)
			close(ffd);
		if (l->fd >= 0)
			close(l->fd);
		return e;
	}
	close(ffd);
	ioctl(l->fd, LOOP_SET_STATUS64, &info);
	return 0;
}

/*
 * The whole path on a real block device: probe, mount read-only on a
 * private directory, read, unmount, remove the directory.  The kernel here
 * has neither udf nor iso9660, so the media is an ext4 image (mkfs.ext4 -d)
 * on a loop device and the type list says ext4.
 */
static void test_mount_loop_device(void **state)
{
	struct tree *t = *state;
	char src[PATH_MAX], img[PATH_MAX], link[PATH_MAX], err[256], dev[PATH_MAX], *xml = NULL;
	char **left = NULL;
	size_t len = 0, nleft = 0;
	struct loopdev l;
	struct ovf_media_options o = {
		.fstypes = (const char *const[]){ "ext4", NULL }, .attempts = 2, .delay_ms = 10
	};
	int ret;

	if (geteuid() != 0)
		skip(); /* mount and loop devices need root */
	snprintf(src, sizeof(src), "%s/src", t->dir);
	put(src, "ovf-env.xml", full_doc, strlen(full_doc));
	snprintf(img, sizeof(img), "%s/media.img", t->dir);
	{
		char *const argv[] = { "mkfs.ext4", "-q", "-F", "-d", src, img, "4M", NULL };

		if (run(argv) != 0)
			skip(); /* no mkfs.ext4 (e2fsprogs) or no -d support */
	}
	ret = loop_attach(img, &l);
	if (ret < 0) {
		print_message("SKIP: no loop device: %s\n", strerror(-ret));
		skip();
	}
	snprintf(link, sizeof(link), "%s/dev", t->dir);
	mkdirs(link);
	snprintf(link, sizeof(link), "%s/run", t->dir);
	mkdirs(link);
	snprintf(link, sizeof(link), "%s/dev/sr0", t->dir);
	assert_int_equal(symlink(l.path, link), 0);

	ret = ovf_media_read_opts(&t->root, &o, &xml, &len, dev, sizeof(dev), err, sizeof(err));
	if (ret != 0)
		fail_msg("ovf_media_read_opts: %d %s", ret, err);
	assert_string_equal(xml, full_doc);
	assert_string_equal(dev, link);
	free(xml);
	/* unmounted, and the private directory is gone */
	assert_int_equal(root_list_dir(&t->root, ROOT_RUN, &left, &nleft, "."), 0);
	assert_int_equal(nleft, 0);
	strv_free(left, nleft);

	/* the real type list: this kernel lacks udf/iso9660 (-ENODEV), else not ours */
	xml = NULL;
	ret = ovf_media_read(&t->root, &xml, &len, dev, sizeof(dev), err, sizeof(err));
	assert_true(ret == -ENODEV || ret == -ENOENT);
	assert_null(xml);
	if (ret == -ENODEV)
		assert_non_null(strstr(err, "cannot mount udf"));
	assert_int_equal(root_list_dir(&t->root, ROOT_RUN, &left, &nleft, "."), 0);
	assert_int_equal(nleft, 0);
	strv_free(left, nleft);

	/* a real drive would eject; a loop device says it cannot */
	assert_true(ovf_media_eject(link) < 0);
	ioctl(l.fd, LOOP_CLR_FD, 0);
	close(l.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_document),
		cmocka_unit_test(test_cdata_and_whitespace),
		cmocka_unit_test(test_other_prefixes),
		cmocka_unit_test(test_wrong_namespace_ignored),
		cmocka_unit_test(test_both_type_spellings),
		cmocka_unit_test(test_missing_and_empty),
		cmocka_unit_test(test_invalid_documents),
		cmocka_unit_test(test_too_many_keys),
		cmocka_unit_test(test_xxe_refused),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_huge_refused),
		cmocka_unit_test(test_errors_never_quote_password),
		cmocka_unit_test(test_nothing_on_stderr),
		cmocka_unit_test(test_latin1_document),
		cmocka_unit_test(test_redact_round_trip),
		cmocka_unit_test(test_redact_refuses_bad),
		cmocka_unit_test_setup_teardown(test_read_dir, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_candidates, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_no_media, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_eject_errors, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_mount_loop_device, tree_setup, tree_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
