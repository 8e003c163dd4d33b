package label

import (
	"fmt"

	"github.com/makiuchi-d/gozxing/common/reedsolomon"
)

// dmreSize is one rectangular extension size (ISO/IEC 21471, table 7):
// symbol cols x rows, data region size, data and error codewords (one
// Reed-Solomon block for every DMRE size).
type dmreSize struct {
	cols, rows, regionCols, regionRows, data, ecc int
}

func dmreSizes() []dmreSize {
	return []dmreSize{
		{48, 8, 22, 6, 18, 15}, {64, 8, 14, 6, 24, 18}, {80, 8, 18, 6, 32, 22},
		{96, 8, 22, 6, 38, 28}, {120, 8, 18, 6, 49, 32}, {144, 8, 22, 6, 63, 36},
		{64, 12, 14, 10, 43, 27}, {88, 12, 20, 10, 64, 36}, {64, 16, 14, 14, 62, 36},
		{36, 20, 16, 18, 44, 28}, {44, 20, 20, 18, 56, 34}, {64, 20, 14, 18, 84, 42},
		{48, 22, 22, 20, 72, 38}, {48, 24, 22, 22, 80, 41}, {64, 24, 14, 22, 108, 46},
		{40, 26, 18, 24, 70, 38}, {48, 26, 22, 24, 90, 42}, {64, 26, 14, 24, 118, 50},
	}
}

// EncodeGS1DMRE encodes GS1 data as a rectangular extension (DMRE) symbol
// with the given number of rows (8, 12, 16, 20, 22, 24 or 26): the
// narrowest one the data fits. Long thin DMRE codes (8 x 48 … 8 x 144)
// fit on vials, ampoules and tubes.
func EncodeGS1DMRE(data []byte, rows int) (*Symbol, error) {
	if len(data) == 0 {
		return nil, ErrEmpty
	}
	cw := appendASCII([]byte{cwFNC1}, data, true)
	for _, z := range dmreSizes() {
		if z.rows != rows || len(cw) > z.data {
			continue
		}
		return placeDMRE(cw, z)
	}
	return nil, fmt.Errorf("%w: %d codewords in a DMRE symbol of %d rows", ErrTooLong, len(cw), rows)
}

func placeDMRE(cw []byte, z dmreSize) (*Symbol, error) {
	if len(cw) < z.data {
		cw = append(cw, cwPad)
	}
	for len(cw) < z.data {
		cw = append(cw, randomizePad(len(cw)+1))
	}
	// gozxing's encoder has generator polynomials only for the ISO/IEC
	// 16022 error codeword counts; its generic Reed-Solomon encoder over
	// the DataMatrix field builds any other
	ints := make([]int, z.data+z.ecc)
	for i, c := range cw {
		ints[i] = int(c)
	}
	if err := reedsolomon.NewReedSolomonEncoder(reedsolomon.GenericGF_DATA_MATRIX_FIELD_256).Encode(ints, z.ecc); err != nil {
		return nil, fmt.Errorf("label: error correction: %w", err)
	}
	full := make([]byte, len(ints))
	for i, v := range ints {
		full[i] = byte(v)
	}
	hr := z.cols / (z.regionCols + 2)
	vr := z.rows / (z.regionRows + 2)
	dw, dh := hr*z.regionCols, vr*z.regionRows
	bits := placeBits(full, dw, dh)
	return layout(func(x, y int) bool { return bits[y*dw+x] }, z.cols, z.rows, z.regionCols, z.regionRows, dw, dh), nil
}

// placeBits is the ECC 200 module placement (ISO/IEC 16022 annex F) with
// the wrap-around rows that the rectangular extension needs (ISO/IEC
// 21471); gozxing's encoder placement lacks the latter.
func placeBits(cw []byte, ncol, nrow int) []bool {
	bits := make([]bool, ncol*nrow)
	set := make([]bool, ncol*nrow)
	module := func(row, col, pos, bit int) {
		if row < 0 {
			row += nrow
			col += 4 - ((nrow + 4) % 8)
		}
		if col < 0 {
			col += ncol
			row += 4 - ((ncol + 4) % 8)
		}
		if row >= nrow {
			row -= nrow
		}
		i := row*ncol + col
		set[i] = true
		bits[i] = pos < len(cw) && cw[pos]&(1<<uint(8-bit)) != 0
	}
	utah := func(row, col, pos int) {
		module(row-2, col-2, pos, 1)
		module(row-2, col-1, pos, 2)
		module(row-1, col-2, pos, 3)
		module(row-1, col-1, pos, 4)
		module(row-1, col, pos, 5)
		module(row, col-2, pos, 6)
		module(row, col-1, pos, 7)
		module(row, col, pos, 8)
	}
	corner := func(pos int, m [8][2]int) {
		for k, rc := range m {
			r, c := rc[0], rc[1]
			if r < 0 {
				r += nrow
			}
			if c < 0 {
				c += ncol
			}
			module(r, c, pos, k+1)
		}
	}
	pos, row, col := 0, 4, 0
	for {
		switch {
		case row == nrow && col == 0:
			corner(pos, [8][2]int{{-1, 0}, {-1, 1}, {-1, 2}, {0, -2}, {0, -1}, {1, -1}, {2, -1}, {3, -1}})
			pos++
		case row == nrow-2 && col == 0 && ncol%4 != 0:
			corner(pos, [8][2]int{{-3, 0}, {-2, 0}, {-1, 0}, {0, -4}, {0, -3}, {0, -2}, {0, -1}, {1, -1}})
			pos++
		case row == nrow-2 && col == 0 && ncol%8 == 4:
			corner(pos, [8][2]int{{-3, 0}, {-2, 0}, {-1, 0}, {0, -2}, {0, -1}, {1, -1}, {2, -1}, {3, -1}})
			pos++
		case row == nrow+4 && col == 2 && ncol%8 == 0:
			corner(pos, [8][2]int{{-1, 0}, {-1, -1}, {0, -3}, {0, -2}, {0, -1}, {1, -3}, {1, -2}, {1, -1}})
			pos++
		}
		for {
			if row < nrow && col >= 0 && !set[row*ncol+col] {
				utah(row, col, pos)
				pos++
			}
			row -= 2
			col += 2
			if row < 0 || col >= ncol {
				break
			}
		}
		row++
		col += 3
		for {
			if row >= 0 && col < ncol && !set[row*ncol+col] {
				utah(row, col, pos)
				pos++
			}
			row += 2
			col -= 2
			if row >= nrow || col < 0 {
				break
			}
		}
		row += 3
		col++
		if row >= nrow && col >= ncol {
			break
		}
	}
	// an unfilled lower-right corner is a fixed pattern
	if !set[nrow*ncol-1] {
		bits[nrow*ncol-1] = true
		bits[(nrow-1)*ncol-2] = true
	}
	return bits
}
