/* Reads the frames listed on stdin (FILE\tGROUP\tSIZE\tAIMED\tHEXTEXT, from
 * `custody-scan bench --list`) as PGM from DIR with libdmtx and prints
 * GROUP\tSIZE\tAIMED\t0|1 per frame (1 = correct text). */
#include <dmtx.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *read_pgm(const char *path, int *w, int *h) {
	FILE *f = fopen(path, "rb");
	int maxv;
	if (!f) return NULL;
	if (fscanf(f, "P5 %d %d %d", w, h, &maxv) != 3) { fclose(f); return NULL; }
	fgetc(f);
	unsigned char *pix = malloc((size_t)*w * *h);
	if (fread(pix, 1, (size_t)*w * *h, f) != (size_t)*w * *h) { free(pix); pix = NULL; }
	fclose(f);
	return pix;
}

static int unhex(const char *s, char *out) {
	int n = 0;
	for (; s[0] && s[1]; s += 2) { unsigned v; sscanf(s, "%2x", &v); out[n++] = (char)v; }
	out[n] = 0;
	return n;
}

int main(int argc, char **argv) {
	char line[16384], want[8192], pgm[4096];
	if (argc != 3) { fprintf(stderr, "usage: dmtx_bench DIR TIMEOUT_MS < list\n"); return 2; }
	int timeout = atoi(argv[2]);
	while (fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\n")] = 0;
		char *file = strtok(line, "\t"), *group = strtok(NULL, "\t"), *size = strtok(NULL, "\t");
		char *aimed = strtok(NULL, "\t"), *hex = strtok(NULL, "\t");
		if (!file || !hex) continue;
		int wl = unhex(hex, want);
		snprintf(pgm, sizeof pgm, "%s/%.*s.pgm", argv[1], (int)strlen(file) - 4, file);
		int w, h, ok = 0;
		unsigned char *pix = read_pgm(pgm, &w, &h);
		if (pix) {
			DmtxImage *img = dmtxImageCreate(pix, w, h, DmtxPack8bppK);
			DmtxDecode *dec = dmtxDecodeCreate(img, 1);
			dmtxDecodeSetProp(dec, DmtxPropFnc1, 0x1d);
			DmtxTime t = dmtxTimeAdd(dmtxTimeNow(), timeout);
			DmtxRegion *reg = dmtxRegionFindNext(dec, &t);
			if (reg) {
				DmtxMessage *msg = dmtxDecodeMatrixRegion(dec, reg, DmtxUndefined);
				if (msg) {
					const char *got = (const char *)msg->output;
					size_t gl = msg->outputIdx;
					if (gl > 0 && got[0] == 0x1d) { got++; gl--; }
					ok = gl == (size_t)wl && memcmp(got, want, gl) == 0;
					dmtxMessageDestroy(&msg);
				}
				dmtxRegionDestroy(&reg);
			}
			dmtxDecodeDestroy(&dec);
			dmtxImageDestroy(&img);
			free(pix);
		}
		printf("%s\t%s\t%s\t%d\n", group, size, aimed, ok);
	}
	return 0;
}
