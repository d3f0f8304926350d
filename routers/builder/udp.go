package builder

// UDPHandler is what a UDP entrypoint asks for each new client session:
// the address of the backend that session sticks to.
type UDPHandler interface {
	NextAddr() string
}

type udpSvcResult struct {
	h   UDPHandler
	err error
}

// udpRouters compiles the UDP routers: one handler per UDP entrypoint.
func (b *build) udpRouters() map[string]UDPHandler {
	return map[string]UDPHandler{}
}
