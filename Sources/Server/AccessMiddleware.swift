import Foundation
import Hummingbird
import Logging
import Recognition

/// Turns whatever a route throws into its JSON error answer, then logs one line for the request
/// (method, path, status, milliseconds) and counts it in the metrics.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics
    let retryAfterSeconds: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let apiError = APIError(error, retryAfterSeconds: retryAfterSeconds)
            if apiError.status == .internalServerError {
                context.logger.error("request failed", metadata: ["error": "\(error)"])
            }
            response = try apiError.response(from: request, context: context)
        }
        let elapsed = ContinuousClock.now - started
        let route = context.endpointPath ?? "unmatched"
        metrics.recordRequest(route: route, method: request.method.rawValue, status: response.status.code, duration: elapsed)
        context.logger.info("request", metadata: [
            "method": .string(request.method.rawValue),
            "path": .string(request.uri.path),
            "status": .stringConvertible(response.status.code),
            "ms": .string(String(format: "%.1f", elapsed.milliseconds)),
        ])
        return response
    }
}
