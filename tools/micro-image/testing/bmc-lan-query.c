/*
 * bmc-lan-query.c -- TEST HELPER for the micro image's stand-in agent only.
 * Reads the BMC's LAN IPv4 address and MAC in-band through /dev/ipmi0
 * (Linux ipmi_devintf): "Get LAN Configuration Parameters" (NetFn 0x0c,
 * cmd 0x02), parameter 3 (IP address) and 5 (MAC), channels 1..11 until one
 * answers.  Prints "ADDRESS MAC" (or "0.0.0.0 -" when there is no BMC).
 * Build: gcc -static -Os -s -o bmc-lan-query bmc-lan-query.c
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/ipmi.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int lan_param(int fd, int chan, int param, unsigned char *out, int want)
{
	static long seq;
	struct ipmi_system_interface_addr si = {
		.addr_type = IPMI_SYSTEM_INTERFACE_ADDR_TYPE,
		.channel = IPMI_BMC_CHANNEL,
	};
	unsigned char req[4] = { (unsigned char)chan, (unsigned char)param, 0, 0 };
	struct ipmi_req r = {
		.addr = (unsigned char *)&si, .addr_len = sizeof(si),
		.msgid = ++seq,
		.msg = { .netfn = 0x0c, .cmd = 0x02, .data = req, .data_len = 4 },
	};
	unsigned char buf[64];
	struct ipmi_addr ra;
	struct ipmi_recv rv;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (ioctl(fd, IPMICTL_SEND_COMMAND, &r) < 0)
		return -1;
	for (;;) {
		if (poll(&p, 1, 3000) <= 0)
			return -1;
		memset(&rv, 0, sizeof(rv));
		rv.addr = (unsigned char *)&ra;
		rv.addr_len = sizeof(ra);
		rv.msg.data = buf;
		rv.msg.data_len = sizeof(buf);
		if (ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, &rv) < 0)
			return -1;
		if (rv.msgid == r.msgid)
			break;
	}
	/* buf[0] completion code, buf[1] parameter revision, then the data */
	if (rv.msg.data_len < 2 + want || buf[0] != 0)
		return -1;
	memcpy(out, buf + 2, want);
	return 0;
}

int main(void)
{
	unsigned char ip[4], mac[6];
	int fd = open("/dev/ipmi0", O_RDWR);
	int chan;

	if (fd < 0)
		fd = open("/dev/ipmi/0", O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "bmc-lan-query: /dev/ipmi0: %s\n", strerror(errno));
		puts("0.0.0.0 -");
		return 1;
	}
	for (chan = 1; chan <= 11; chan++) {
		if (lan_param(fd, chan, 3, ip, 4) != 0)
			continue;
		if (lan_param(fd, chan, 5, mac, 6) != 0)
			memset(mac, 0, sizeof(mac));
		printf("%u.%u.%u.%u %02x:%02x:%02x:%02x:%02x:%02x\n",
		       ip[0], ip[1], ip[2], ip[3],
		       mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		return 0;
	}
	fprintf(stderr, "bmc-lan-query: no LAN channel answered\n");
	puts("0.0.0.0 -");
	return 1;
}
