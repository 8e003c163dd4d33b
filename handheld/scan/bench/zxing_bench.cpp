// Reads the frames listed on stdin (FILE<TAB>GROUP<TAB>SIZE<TAB>AIMED<TAB>HEXTEXT,
// from `custody-scan bench --list`) as PGM from DIR with zxing-cpp and prints
// GROUP<TAB>SIZE<TAB>AIMED<TAB>0|1 per frame (1 = correct text).
#include <ZXing/ReadBarcode.h>
#include <ZXing/ZXVersion.h>
#if ZXING_VERSION_MAJOR < 2
#include <ZXing/TextUtfEncoding.h>
#endif
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

static bool readPGM(const std::string& path, std::vector<unsigned char>& pix, int& w, int& h) {
	std::ifstream f(path, std::ios::binary);
	std::string magic;
	int maxv;
	if (!(f >> magic >> w >> h >> maxv) || magic != "P5") return false;
	f.get();
	pix.resize(size_t(w) * h);
	return bool(f.read(reinterpret_cast<char*>(pix.data()), pix.size()));
}

static std::string unhex(const std::string& s) {
	std::string out;
	for (size_t i = 0; i + 1 < s.size(); i += 2) out.push_back(char(std::stoi(s.substr(i, 2), nullptr, 16)));
	return out;
}

int main(int argc, char** argv) {
	if (argc != 2) { std::cerr << "usage: zxing_bench DIR < list\n"; return 2; }
	std::string dir = argv[1], line;
	while (std::getline(std::cin, line)) {
		std::istringstream ls(line);
		std::string file, group, size, aimed, hex;
		std::getline(ls, file, '\t'); std::getline(ls, group, '\t'); std::getline(ls, size, '\t');
		std::getline(ls, aimed, '\t'); std::getline(ls, hex, '\t');
		std::string pgm = dir + "/" + file.substr(0, file.size() - 4) + ".pgm";
		std::vector<unsigned char> pix; int w = 0, h = 0;
		bool ok = false;
		if (readPGM(pgm, pix, w, h)) {
			ZXing::ImageView img(pix.data(), w, h, ZXing::ImageFormat::Lum);
#if ZXING_VERSION_MAJOR >= 2
			ZXing::ReaderOptions opts;
			opts.setFormats(ZXing::BarcodeFormat::DataMatrix);
			opts.setTryHarder(true);
			auto r = ZXing::ReadBarcode(img, opts);
			std::string text = r.text();
#else
			ZXing::DecodeHints hints;
			hints.setFormats(ZXing::BarcodeFormat::DataMatrix);
			hints.setTryHarder(true);
			auto r = ZXing::ReadBarcode(img, hints);
			std::string text = ZXing::TextUtfEncoding::ToUtf8(r.text());
#endif
			if (!text.empty() && text[0] == '\x1d') text.erase(0, 1);
			ok = r.isValid() && text == unhex(hex);
		}
		std::printf("%s\t%s\t%s\t%d\n", group.c_str(), size.c_str(), aimed.c_str(), ok ? 1 : 0);
	}
	return 0;
}
