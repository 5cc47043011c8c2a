# shellcheck shell=bash
# Shared by the provisioning suites, the demo and the benchmark.
#
# prov_mkroot DIR: a scratch system root with a minimal /etc (passwd, group,
# shadow, gshadow, login.defs) generated here, never copied from the
# machine, for the real useradd/usermod/chpasswd (--root).
prov_mkroot() {
	local R=$1
	rm -rf "$R"
	mkdir -p "$R/etc" "$R/home" "$R/var/lib"
	cat >"$R/etc/passwd" <<-'EOF'
	root:x:0:0:root:/root:/bin/bash
	daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
	EOF
	cat >"$R/etc/group" <<-'EOF'
	root:x:0:
	adm:x:4:
	sudo:x:27:
	users:x:100:
	video:x:44:
	EOF
	printf 'root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n' >"$R/etc/shadow"
	printf 'root:*::\nadm:*::\nsudo:*::\nusers:*::\nvideo:*::\n' >"$R/etc/gshadow"
	chmod 0640 "$R/etc/shadow" "$R/etc/gshadow"
	cat >"$R/etc/login.defs" <<-'EOF'
	UID_MIN 1000
	UID_MAX 60000
	GID_MIN 1000
	GID_MAX 60000
	CREATE_HOME yes
	ENCRYPT_METHOD SHA512
	EOF
}

# prov_config FILE [extra lines...]: a configuration that points the agent
# at the simulator ($IMDS_URL, $WIRE_URL) with short budgets for tests.
prov_config() {
	local f=$1
	shift
	{
		echo "[provision]"
		echo "imds_url = $IMDS_URL"
		echo "wireserver_url = $WIRE_URL"
		echo "imds_budget_s = ${PROV_IMDS_BUDGET:-5}"
		echo "report_budget_s = ${PROV_REPORT_BUDGET:-5}"
		echo "retry_ms = 20"
		echo "groups = sudo,adm"
		echo "media = no"
		echo "[resource_disk]"
		echo "enabled = no"
		printf '%s\n' "$@"
	} >"$f"
}
