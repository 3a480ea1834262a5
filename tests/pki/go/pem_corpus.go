// Command pem_corpus writes the ground truth of tests/pki/pem_go_test.cpp:
// tricky PEM texts and what Go's encoding/pem reads from each of them, one
// JSON object per line:
//
//	{"text": "<base64 of the text>",
//	 "blocks": [{"type": "...", "der": "<base64>", "headers": {"k": "v"}}]}
//
// "blocks" is what repeated pem.Decode calls return, in order. cert-manager
// reads spec.request with pem.Decode, so this is what our Go-compatible
// reader (pki/pem.cpp) must reproduce byte for byte.
//
// Regenerate (not part of the build; Debian's golang-go, any Go >= 1.19):
//
//	go run tests/pki/go/pem_corpus.go > tests/pki/data/go_pem_corpus.jsonl
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/rand"
	"os"
	"strings"
)

type block struct {
	Type    string            `json:"type"`
	DER     string            `json:"der"`
	Headers map[string]string `json:"headers"`
}

type entry struct {
	Text   string  `json:"text"`
	Blocks []block `json:"blocks"`
}

var (
	labels      = []string{"CERTIFICATE REQUEST", "CERTIFICATE", "X", "", "CERTIFICATE REQUEST ", "A:B"}
	lineEnds    = []string{"\n", "\n", "\n", "\n", "\n", "\n", "\r\n", "\r\n", "\r\n", "\r\n", "\r\r\n", "\r", " \n", "\t\r\n", "\n\n", " \r\n", "\r \n"}
	beginTails  = []string{"", "", "", "", "", "", "", "", " ", "\t", "\r", "\r\r", " \r", "\r ", "x", "-"}
	endTails    = []string{"", "", "", "", "", "", "", "", " ", "\t", "\r", "\r\r", " \r", "\r ", "x", "-----"}
	prefixes    = []string{"", "", "", "\n", "junk\n", " ", "junk", "-----BEGIN", "\r\n", " \n", "\r", "-----BEGIN X-----\n"}
	separators  = []string{"", "\n", "\r", "\r\n", "junk\n", " ", "\n\n", "-----END X-----\n"}
	headerLines = []string{"Proc-Type: 4,ENCRYPTED", "Key:value", ":", "K : v ", "a: b: c"}
	insertions  = []string{" ", "\t", "\r", "\n", "\r\n", "=", "-", ":", "!"}
)

func pick(r *rand.Rand, xs []string) string { return xs[r.Intn(len(xs))] }

// payload: random bytes of a random length (some lengths need padding).
func payload(r *rand.Rand) []byte {
	n := 1 + r.Intn(24)
	b := make([]byte, n)
	r.Read(b)
	return b
}

// base64 of b, sometimes with the unused trailing bits of the last
// character set (Go's decoder accepts that, a strict one does not).
func encode(r *rand.Rand, b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	if r.Intn(4) == 0 && len(b)%3 != 0 {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		i := strings.IndexByte(s, '=') - 1
		v := strings.IndexByte(alphabet, s[i])
		mask := 0xf
		if len(b)%3 == 2 {
			mask = 0x3
		}
		s = s[:i] + string(alphabet[(v|(1+r.Intn(mask)))&63]) + s[i+1:]
	}
	switch r.Intn(24) {
	case 0:
		s = strings.TrimRight(s, "=")
	case 1:
		s += "="
	case 2:
		if len(s) > 4 {
			s = s[:4] + "=" + s[4:]
		}
	}
	return s
}

func makeBlock(r *rand.Rand) string {
	label := pick(r, labels)
	endLabel := label
	if r.Intn(10) == 0 {
		endLabel = pick(r, labels)
	}
	nl := pick(r, lineEnds)
	var sb strings.Builder
	sb.WriteString("-----BEGIN " + label + "-----" + pick(r, beginTails) + nl)
	if r.Intn(6) == 0 {
		for i := r.Intn(3); i >= 0; i-- {
			sb.WriteString(pick(r, headerLines) + pick(r, lineEnds))
		}
		if r.Intn(2) == 0 {
			sb.WriteString(pick(r, lineEnds))
		}
	}
	data := encode(r, payload(r))
	width := []int{64, 64, 16, 4, 1, 1 << 20}[r.Intn(6)]
	for i := 0; i < len(data); i += width {
		j := i + width
		if j > len(data) {
			j = len(data)
		}
		line := data[i:j]
		if r.Intn(24) == 0 {
			k := r.Intn(len(line) + 1)
			line = line[:k] + pick(r, insertions) + line[k:]
		}
		sb.WriteString(line)
		if r.Intn(30) == 0 {
			sb.WriteString(pick(r, lineEnds))
		} else {
			sb.WriteString(nl)
		}
	}
	if r.Intn(25) != 0 {
		sb.WriteString("-----END " + endLabel + "-----" + pick(r, endTails))
		if r.Intn(5) != 0 {
			sb.WriteString(pick(r, lineEnds))
		}
	}
	return sb.String()
}

func main() {
	r := rand.New(rand.NewSource(20261206))
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for n := 0; n < 2000; n++ {
		text := pick(r, prefixes)
		for i := 1 + r.Intn(3); i > 0; i-- {
			text += makeBlock(r) + pick(r, separators)
		}
		e := entry{Text: base64.StdEncoding.EncodeToString([]byte(text)), Blocks: []block{}}
		rest := []byte(text)
		for {
			var p *pem.Block
			p, rest = pem.Decode(rest)
			if p == nil {
				break
			}
			e.Blocks = append(e.Blocks, block{p.Type, base64.StdEncoding.EncodeToString(p.Bytes), p.Headers})
		}
		if err := enc.Encode(e); err != nil {
			panic(err)
		}
	}
}
