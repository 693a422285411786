package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"strings"
)

// The plot is drawn with the standard library alone (image/png and a 5x7
// bitmap font below), so the tool adds no dependency to the module.

var glyphs = map[rune]string{
	'A': ".###.#...##...#######...##...##...#", 'B': "####.#...##...#####.#...##...#####.",
	'C': ".###.#...##....#....#....#...#.###.", 'D': "####.#...##...##...##...##...#####.",
	'E': "######....#....####.#....#....#####", 'F': "######....#....####.#....#....#....",
	'G': ".###.#...##....#.####...##...#.####", 'H': "#...##...##...#######...##...##...#",
	'I': ".###...#....#....#....#....#...###.", 'J': "..###...#....#....#....#.#..#..##..",
	'K': "#...##..#.#.#..##...#.#..#..#.#...#", 'L': "#....#....#....#....#....#....#####",
	'M': "#...###.###.#.##.#.##...##...##...#", 'N': "#...##...###..##.#.##..###...##...#",
	'O': ".###.#...##...##...##...##...#.###.", 'P': "####.#...##...#####.#....#....#....",
	'Q': ".###.#...##...##...##.#.##..#..##.#", 'R': "####.#...##...#####.#.#..#..#.#...#",
	'S': ".#####....#.....###.....#....#####.", 'T': "#####..#....#....#....#....#....#..",
	'U': "#...##...##...##...##...##...#.###.", 'V': "#...##...##...##...##...#.#.#...#..",
	'W': "#...##...##...##.#.##.#.##.#.#.#.#.", 'X': "#...##...#.#.#...#...#.#.#...##...#",
	'Y': "#...##...#.#.#...#....#....#....#..", 'Z': "#####....#...#...#...#...#....#####",
	'0': ".###.#...##..###.#.###..##...#.###.", '1': "..#...##....#....#....#....#...###.",
	'2': ".###.#...#....#...#...#...#...#####", '3': "####.....#....#.###.....#....#####.",
	'4': "...#...##..#.#.#..#.#####...#....#.", '5': "######....####.....#....##...#.###.",
	'6': ".###.#....#....####.#...##...#.###.", '7': "#####....#...#...#...#....#....#...",
	'8': ".###.#...##...#.###.#...##...#.###.", '9': ".###.#...##...#.####....#....#.###.",
	' ': "...................................", '.': ".........................##...##..",
	',': "....................##....#...#....", '-': "...............#####...............",
	'/': "....#....#...#...#...#...#....#....", '(': "...#...#...#....#....#.....#.....#.",
	')': ".#.....#.....#....#....#...#...#...", ':': "......##...##.........##...##......",
	'%': "##..###..#...#...#...#...#..###..##", 'Μ': ".....#...##...##...##..#####.##....", 'µ': ".....#...##...##...##..#####.##....",
	'×': ".....#...#.#.#...#...#.#.#...#.....", '–': "...............#####...............",
}

const glyphScale = 2

func textWidth(s string) int { return len([]rune(s)) * 6 * glyphScale }

func drawText(img *image.RGBA, x, y int, s string, c color.Color) {
	for _, r := range strings.ToUpper(s) {
		g, ok := glyphs[r]
		if !ok {
			g = glyphs[' ']
		}
		for i, px := range g {
			if px != '#' {
				continue
			}
			fill(img, x+(i%5)*glyphScale, y+(i/5)*glyphScale, glyphScale, glyphScale, c)
		}
		x += 6 * glyphScale
	}
}

func fill(img *image.RGBA, x, y, w, h int, c color.Color) {
	draw.Draw(img, image.Rect(x, y, x+w, y+h), &image.Uniform{c}, image.Point{}, draw.Src)
}

// bar is one contender's median and range in a panel.
type bar struct {
	label         string
	med, min, max float64
	color         color.Color
}

var (
	colBridge = color.RGBA{0x1f, 0x77, 0xb4, 0xff}
	colRef    = color.RGBA{0x99, 0x99, 0x99, 0xff}
	colPeer   = color.RGBA{0xd6, 0x27, 0x28, 0xff}
	colAxis   = color.RGBA{0x33, 0x33, 0x33, 0xff}
	colGrid   = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
)

var shortName = map[string]string{
	cBridge: "bridge", cRawConsume: "raw consume", cRawPublish: "raw publish", cPerMessage: "per message", cPipeline: "pipeline",
}

// panel draws a bar chart in the rectangle r. With logScale the value axis
// is logarithmic (raw consume is an order of magnitude above the rest).
func panel(img *image.RGBA, r image.Rectangle, title string, bars []bar, logScale bool, format string) {
	drawText(img, r.Min.X, r.Min.Y, title, colAxis)
	top, bottom := r.Min.Y+50, r.Max.Y-50
	left, right := r.Min.X+10, r.Max.X-10
	if logScale {
		left += 50 // room for the axis labels
	}
	hi := 0.0
	for _, b := range bars {
		hi = max(hi, b.max)
	}
	if hi <= 0 {
		hi = 1
	}
	lo := math.Pow(10, math.Floor(math.Log10(minPositive(bars)))) // a decade at or below the least
	ceil := math.Pow(10, math.Ceil(math.Log10(hi)))
	scale := func(v float64) int { // value to y
		if logScale {
			f := (math.Log10(max(v, lo)) - math.Log10(lo)) / (math.Log10(ceil) - math.Log10(lo))
			return bottom - int(f*float64(bottom-top))
		}
		return bottom - int(v/(hi*1.15)*float64(bottom-top))
	}
	if logScale {
		for d := lo; d <= ceil*1.001; d *= 10 {
			y := scale(d)
			fill(img, left, y, right-left, 1, colGrid)
			drawText(img, r.Min.X, y-7, compact(d), colRef)
		}
	}
	fill(img, left, bottom, right-left, 2, colAxis)
	n := len(bars)
	slot := (right - left) / max(n, 1)
	w := slot * 3 / 5
	for i, b := range bars {
		x := left + i*slot + (slot-w)/2
		y := scale(b.med)
		fill(img, x, y, w, bottom-y, b.color)
		if b.max > b.min { // range whisker
			cx := x + w/2
			y0, y1 := scale(b.max), scale(b.min)
			fill(img, cx-1, y0, 2, y1-y0+1, colAxis)
			fill(img, cx-6, y0, 12, 2, colAxis)
			fill(img, cx-6, y1, 12, 2, colAxis)
		}
		v := fmt.Sprintf(format, b.med)
		vx, vy := x+w/2-textWidth(v)/2, scale(b.max)-20
		fill(img, vx-2, vy-2, textWidth(v)+2, 7*glyphScale+4, color.White)
		drawText(img, vx, vy, v, colAxis)
		for j, part := range strings.SplitN(b.label, " ", 2) {
			drawText(img, x+w/2-textWidth(part)/2, bottom+10+j*18, part, colAxis)
		}
	}
}

func minPositive(bars []bar) float64 {
	m := math.Inf(1)
	for _, b := range bars {
		if b.min > 0 {
			m = min(m, b.min)
		}
	}
	if math.IsInf(m, 1) {
		return 1
	}
	return m
}

func compact(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%gK", v/1e3)
	}
	return fmt.Sprintf("%g", v)
}

// writePlot draws throughput (log scale) and CPU per event for every
// contender that ran.
func writePlot(path string, r *report) error {
	s := r.summaries()
	var rate, cpu []bar
	for _, c := range allContenders {
		x, ok := s[c]
		if !ok {
			continue
		}
		col := colRef
		switch base(c) {
		case cBridge:
			col = colBridge
		case cPerMessage:
			col = colPeer
		}
		name := shortName[base(c)]
		if strings.HasSuffix(c, slowSuffix) {
			name = fmt.Sprintf("%s %s", name, r.opts.sinkLatency)
		}
		rate = append(rate, bar{name, x.rate.med, x.rate.min, x.rate.max, col})
		cpu = append(cpu, bar{name, x.cpu.med, x.cpu.min, x.cpu.max, col})
	}
	img := image.NewRGBA(image.Rect(0, 0, 1400, 520))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	drawText(img, 20, 12, fmt.Sprintf("kafka-sns-bridge: %d events, median of %d, bars show min-max", r.opts.events, r.opts.reps), colAxis)
	panel(img, image.Rect(20, 50, 690, 510), "throughput, events/s (log scale)", rate, true, "%.0f")
	panel(img, image.Rect(720, 50, 1390, 510), "CPU per event, µs (lower is better)", cpu, false, "%.1f")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
