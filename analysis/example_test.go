package analysis_test

import (
	"fmt"

	"github.com/irflow/irflow/analysis"
)

func ExampleNew() {
	an, err := analysis.New(analysis.Config{}) // Lucene's EnglishAnalyzer
	if err != nil {
		panic(err)
	}
	an.Analyze("John's cats are running to the U.S.A.!", func(term string) {
		fmt.Println(term)
	})
	// Output:
	// john
	// cat
	// run
	// u.s.a
}
