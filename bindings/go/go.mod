module github.com/tubo/tubo/bindings/go

go 1.21
