/*
 * A test peer: libpcap's own bpf_filter and bpf_validate behind a line
 * protocol on stdin/stdout, so that tests and benchmarks compare the Rust
 * interpreter with libpcap without any foreign-function code in Rust.
 *
 *   p N code jt jf k ...   set the program; replies "v 1" or "v 0"
 *                          (bpf_validate's verdict)
 *   r WIRELEN HEX          run on one packet ("-" for no bytes);
 *                          replies "r VALUE"
 *   a WIRELEN HEX          add a packet to the benchmark set
 *   c                      clear the benchmark set
 *   b ITERS                run the program over the set ITERS times;
 *                          replies "b NANOSECONDS ACCEPTED"
 *
 * Only "r" and "b" execute the program, and only for programs the caller
 * has checked with the kernel's rules (libpcap's bpf_filter aborts on
 * opcodes it does not know and reads scratch memory it never wrote).
 */
#include <pcap/pcap.h>
#include <pcap/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pkt {
	unsigned char *data;
	unsigned int len;
	unsigned int wirelen;
};

static struct bpf_insn *prog;
static int prog_len;
static struct pkt *set;
static size_t set_len, set_cap;

static unsigned char *read_hex(char *hex, unsigned int *len)
{
	size_t n;
	unsigned char *buf;

	if (strcmp(hex, "-") == 0) {
		*len = 0;
		return malloc(1);
	}
	n = strlen(hex) / 2;
	buf = malloc(n ? n : 1);
	for (size_t i = 0; i < n; i++) {
		unsigned int b;
		sscanf(hex + 2 * i, "%2x", &b);
		buf[i] = (unsigned char)b;
	}
	*len = (unsigned int)n;
	return buf;
}

int main(void)
{
	static char line[1 << 20];

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	while (fgets(line, sizeof line, stdin) != NULL) {
		char *save = NULL;
		char *cmd = strtok_r(line, " \n", &save);

		if (cmd == NULL)
			continue;
		if (strcmp(cmd, "p") == 0) {
			prog_len = atoi(strtok_r(NULL, " \n", &save));
			free(prog);
			prog = calloc(prog_len ? prog_len : 1, sizeof *prog);
			for (int i = 0; i < prog_len; i++) {
				prog[i].code = (unsigned short)strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
				prog[i].jt = (unsigned char)strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
				prog[i].jf = (unsigned char)strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
				prog[i].k = (bpf_u_int32)strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
			}
			printf("v %d\n", bpf_validate(prog, prog_len) ? 1 : 0);
		} else if (strcmp(cmd, "r") == 0 || strcmp(cmd, "a") == 0) {
			unsigned int wirelen = (unsigned int)strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
			unsigned int len;
			unsigned char *data = read_hex(strtok_r(NULL, " \n", &save), &len);

			if (cmd[0] == 'r') {
				printf("r %u\n", bpf_filter(prog, data, wirelen, len));
				free(data);
			} else {
				if (set_len == set_cap) {
					set_cap = set_cap ? 2 * set_cap : 64;
					set = realloc(set, set_cap * sizeof *set);
				}
				set[set_len].data = data;
				set[set_len].len = len;
				set[set_len].wirelen = wirelen;
				set_len++;
			}
		} else if (strcmp(cmd, "c") == 0) {
			for (size_t i = 0; i < set_len; i++)
				free(set[i].data);
			set_len = 0;
		} else if (strcmp(cmd, "b") == 0) {
			unsigned long iters = strtoul(strtok_r(NULL, " \n", &save), NULL, 10);
			unsigned long accepted = 0;
			struct timespec t0, t1;

			clock_gettime(CLOCK_MONOTONIC, &t0);
			for (unsigned long it = 0; it < iters; it++)
				for (size_t i = 0; i < set_len; i++)
					accepted += bpf_filter(prog, set[i].data,
					    set[i].wirelen, set[i].len) != 0;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			printf("b %llu %lu\n",
			    (unsigned long long)((t1.tv_sec - t0.tv_sec) * 1000000000LL +
			    (t1.tv_nsec - t0.tv_nsec)), accepted);
		} else {
			fprintf(stderr, "bpf_shim: unknown command %s\n", cmd);
			return 2;
		}
		fflush(stdout);
	}
	return 0;
}
