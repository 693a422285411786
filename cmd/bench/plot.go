package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"sort"
	"strings"
	"time"
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
	'+': ".......#....#..#####..#....#.......",
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
	colBase   = color.RGBA{0xff, 0x7f, 0x0e, 0xff}
	colRelax  = color.RGBA{0x2c, 0xa0, 0x2c, 0xff}
	colAxis   = color.RGBA{0x33, 0x33, 0x33, 0xff}
	colGrid   = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
)

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
// contender that drained the main backlog against a sink that takes
// everything.
func writePlot(path string, r *report) error {
	main, _ := r.mainShape()
	var rate, cpu []bar
	for _, x := range r.summaries() {
		if x.shape.key() != main.key() || x.c.push != "" || x.double {
			continue
		}
		col := colRef
		switch x.c.kind {
		case cBridge:
			col = colBridge
		case cPerMessage, cBento:
			col = colPeer
		case cBase:
			col = colBase
		}
		name := plotLabel(x.c, r.opts.sinkLatency)
		rate = append(rate, bar{name, x.rate.med, x.rate.min, x.rate.max, col})
		cpu = append(cpu, bar{name, x.cpu.med, x.cpu.min, x.cpu.max, col})
	}
	w := max(1400, 2*(40+len(rate)*110))
	img := image.NewRGBA(image.Rect(0, 0, w, 520))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	drawText(img, 20, 12, fmt.Sprintf("kafka-sns-bridge: %d events, %s, median of %d, bars show min-max", main.Events, main.distribution(), r.opts.reps), colAxis)
	panel(img, image.Rect(20, 50, w/2-10, 510), "throughput, events/s (log scale)", rate, true, "%.0f")
	panel(img, image.Rect(w/2+20, 50, w-10, 510), "CPU per event, µs (lower is better)", cpu, false, "%.1f")
	return savePNG(path, img)
}

func savePNG(path string, img image.Image) error {
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

// plotLabel is c's label under its bar: the kind and variants on the first
// line, the sink's latency on the second.
func plotLabel(c contender, lat time.Duration) string {
	s := strings.ReplaceAll(c.kind, "-", "")
	for _, v := range []string{c.order, c.push} {
		if v != "" {
			s += "+" + v
		}
	}
	if c.kind == cRawConsume {
		return "raw consume"
	}
	if c.slow {
		return s + " " + lat.String()
	}
	return s + " 0ms"
}

// skewSeries are the skew plot's lines: contender and colour.
var skewSeries = []struct {
	name string
	col  color.Color
}{
	{"bridge-slow-sink", colBridge}, {"base-slow-sink", colBase}, {"bridge-relaxed-slow-sink", colRelax},
	{"bridge", color.RGBA{0x9e, 0xc9, 0xe8, 0xff}}, {"base", color.RGBA{0xff, 0xc0, 0x8a, 0xff}},
}

// writeSkewPlot draws events/s against the busiest organization's share of
// the events (both log scale), one line per contender of skewSeries, one
// point per backlog shape.
func writeSkewPlot(path string, r *report) error {
	ss := r.summaries()
	type point struct{ x, y float64 }
	type series struct {
		label string
		col   color.Color
		pts   []point
	}
	var all []series
	lo, hi := 1.0, 1.0
	ylo, yhi := math.Inf(1), 0.0
	for _, sc := range skewSeries {
		se := series{label: r.shortLabel(mustContender(sc.name)), col: sc.col}
		for _, x := range ss {
			if x.name != sc.name || x.c.push != "" || x.double {
				continue
			}
			p := point{x.shape.topShare(), x.rate.med}
			se.pts = append(se.pts, p)
			lo, ylo, yhi = min(lo, p.x), min(ylo, p.y), max(yhi, p.y)
		}
		if len(se.pts) > 0 {
			sort.Slice(se.pts, func(i, j int) bool { return se.pts[i].x < se.pts[j].x })
			all = append(all, se)
		}
	}
	if len(all) == 0 {
		return fmt.Errorf("no run of %s", skewSeries[0].name)
	}
	img := image.NewRGBA(image.Rect(0, 0, 1000, 640))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	drawText(img, 20, 12, "kafka-sns-bridge: events/s against the busiest organization share (log-log)", colAxis)
	left, right, top, bottom := 110, 960, 60, 560
	xlo, xhi := math.Pow(10, math.Floor(math.Log10(lo))), hi
	ylo, yhi = math.Pow(10, math.Floor(math.Log10(ylo))), math.Pow(10, math.Ceil(math.Log10(yhi)))
	px := func(v float64) int {
		return left + int((math.Log10(v)-math.Log10(xlo))/(math.Log10(xhi)-math.Log10(xlo))*float64(right-left))
	}
	py := func(v float64) int {
		return bottom - int((math.Log10(v)-math.Log10(ylo))/(math.Log10(yhi)-math.Log10(ylo))*float64(bottom-top))
	}
	for d := ylo; d <= yhi*1.001; d *= 10 {
		fill(img, left, py(d), right-left, 1, colGrid)
		drawText(img, left-10-textWidth(compact(d)), py(d)-7, compact(d), colRef)
	}
	for d := xlo; d <= xhi*1.001; d *= 10 {
		fill(img, px(d), top, 1, bottom-top, colGrid)
		l := fmt.Sprintf("%g%%", 100*d)
		drawText(img, px(d)-textWidth(l)/2, bottom+10, l, colRef)
	}
	fill(img, left, bottom, right-left, 2, colAxis)
	fill(img, left, top, 2, bottom-top, colAxis)
	drawText(img, (left+right)/2-textWidth("busiest organization share of the events")/2, bottom+40, "busiest organization share of the events", colAxis)
	for i, se := range all {
		for j, p := range se.pts {
			x, y := px(p.x), py(p.y)
			fill(img, x-4, y-4, 9, 9, se.col)
			if j > 0 {
				line(img, px(se.pts[j-1].x), py(se.pts[j-1].y), x, y, se.col)
			}
		}
		// The legend sits bottom left, where few points fall: throughput
		// is highest where the busiest organization's share is smallest.
		ly := bottom - 20 - (len(all)-i)*22
		fill(img, left+20, ly, 14, 14, se.col)
		drawText(img, left+40, ly, se.label, colAxis)
	}
	return savePNG(path, img)
}

// line draws a 3-pixel-wide segment from (x0, y0) to (x1, y1).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	n := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= n; i++ {
		x := x0 + (x1-x0)*i/n
		y := y0 + (y1-y0)*i/n
		fill(img, x-1, y-1, 3, 3, c)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
