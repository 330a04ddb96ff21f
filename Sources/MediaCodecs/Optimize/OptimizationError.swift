/// Why an optimisation failed: the source could not be read, the result could not be written, or
/// the result is not what the source is. The optimiser reports it as `DecodeFailure(.failed, …)`.
struct OptimizationError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
